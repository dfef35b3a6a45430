interface TextFieldProps {
  id: string;
  label: string;
  value: string;
  onValue: (value: string) => void;
  /** A password: typed hidden. */
  secret?: boolean;
  autocomplete: string;
  maxLength: number;
  /** Shown under the field and read with it (aria-describedby). */
  hint?: string;
}

/** A required input with its label, and its hint when there is one. */
export function TextField({ id, label, value, onValue, secret = false, autocomplete, maxLength, hint }: TextFieldProps) {
  const attributes = {
    id,
    name: id,
    required: true,
    autocomplete,
    maxLength,
    'aria-describedby': hint ? `${id}-hint` : undefined,
    value,
    onInput: (e: { currentTarget: HTMLInputElement }) => onValue(e.currentTarget.value),
  };
  return (
    <>
      <label for={id}>{label}</label>
      {secret ? <input type="password" {...attributes} /> : <input type="text" {...attributes} />}
      {hint && (
        <p id={`${id}-hint`} class="hint">
          {hint}
        </p>
      )}
    </>
  );
}
