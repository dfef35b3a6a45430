import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

interface ConfirmDialogProps {
  open: boolean;
  title: string;
  confirmLabel: string;
  onConfirm: () => void;
  /** The dialog closed without confirming (Cancel, Escape). */
  onCancel: () => void;
  children: ComponentChildren;
}

/**
 * A modal question before an action that reaches other people: the browser's own <dialog>
 * (focus moves in and is kept there, Escape cancels, focus returns to the opener). Cancel has
 * the focus first, so Enter alone does not confirm.
 */
export function ConfirmDialog({ open, title, confirmLabel, onConfirm, onCancel, children }: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  const confirmed = useRef(false);

  useEffect(() => {
    const dialog = ref.current!;
    if (open && !dialog.open) {
      confirmed.current = false;
      dialog.showModal();
    } else if (!open && dialog.open) dialog.close();
  }, [open]);

  return (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-body`}
      onClose={() => {
        if (!confirmed.current) onCancel();
      }}
    >
      <h2 id={`${id}-title`}>{title}</h2>
      <div id={`${id}-body`}>{children}</div>
      <div class="actions">
        <button type="button" autoFocus onClick={() => ref.current!.close()}>
          Cancel
        </button>
        <button
          type="button"
          class="primary"
          onClick={() => {
            confirmed.current = true;
            ref.current!.close();
            onConfirm();
          }}
        >
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
