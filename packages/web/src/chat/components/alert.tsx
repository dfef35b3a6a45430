/** A refusal or failure, read out at once by screen readers; nothing when there is none. */
export function Alert({ message, id }: { message: string | null; id?: string }) {
  return message ? (
    <p id={id} class="error" role="alert">
      {message}
    </p>
  ) : null;
}
