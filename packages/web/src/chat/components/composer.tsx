import { Alert } from './alert.tsx';
import { useState } from 'preact/hooks';
import { MAX_TEXT_LENGTH } from '@parley/protocol';
import { describeError } from '../store/chat-store.ts';

interface Props {
  /** Visible to screen readers: "Message lobby", "Message alice". */
  label: string;
  onSend: (text: string) => Promise<void>;
  onTyping?: () => void;
}

/** Enter sends, Shift+Enter starts a new line. A refused message stays in the box with the reason. */
export function Composer({ label, onSend, onTyping }: Props) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  const send = async () => {
    const message = text;
    if (!message.trim() || sending) return;
    setSending(true);
    setError(null);
    setText('');
    try {
      await onSend(message);
    } catch (err) {
      setText(message);
      setError(describeError(err));
    } finally {
      setSending(false);
    }
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label for="composer" class="visually-hidden">
        {label}
      </label>
      <textarea
        id="composer"
        rows={1}
        maxLength={MAX_TEXT_LENGTH}
        placeholder={label}
        value={text}
        aria-describedby={error ? 'composer-error' : undefined}
        onInput={(e) => {
          setText(e.currentTarget.value);
          onTyping?.();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            void send();
          }
        }}
      />
      <button type="submit" class="primary" disabled={sending || !text.trim()}>
        Send
      </button>
      <Alert message={error} id="composer-error" />
    </form>
  );
}
