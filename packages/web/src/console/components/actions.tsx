import { useState } from 'preact/hooks';
import { MAX_TEXT_LENGTH, type PublicUser } from '@parley/protocol';
import { api } from '../../chat/api.ts';
import type { AdminConnection } from '../admin-connection.ts';
import { useAction } from '../use-action.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { OutcomeMessage } from './feedback.tsx';
import { TextField } from './text-field.tsx';

/** Write an announcement, confirm, and every connected user of every node gets it. */
export function AnnounceForm({ connection }: { connection: AdminConnection }) {
  const [text, setText] = useState('');
  const [confirming, setConfirming] = useState(false);
  const { busy, outcome, run, clear } = useAction('Not sent: ');

  const send = () => {
    setConfirming(false);
    void run(async () => {
      await connection.announce(text);
      setText('');
      return 'Announcement sent to every connected user.';
    });
  };

  return (
    <section class="card" aria-labelledby="announce-title">
      <h2 id="announce-title">Announce</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (busy) return;
          clear();
          setConfirming(true);
        }}
      >
        <label for="announcement">Announcement</label>
        <textarea
          id="announcement"
          rows={3}
          required
          maxLength={MAX_TEXT_LENGTH}
          aria-describedby="announcement-hint"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <p id="announcement-hint" class="hint">
          Shown at once to everyone connected to the chat, on every node. Up to {MAX_TEXT_LENGTH} characters.
        </p>
        {/* Never disabled: the dialog gives the focus back to it, and a disabled button would drop it. */}
        <button type="submit" class="primary">
          Send announcement…
        </button>
      </form>
      <OutcomeMessage outcome={outcome} />
      <ConfirmDialog
        open={confirming}
        title="Send this announcement?"
        confirmLabel="Send to everyone"
        onConfirm={send}
        onCancel={() => setConfirming(false)}
      >
        <p>Everyone connected to the chat gets it now:</p>
        <blockquote class="quoted">{text}</blockquote>
      </ConfirmDialog>
    </section>
  );
}

/** Look a user up by name, confirm, and every socket of theirs, on every node, is disconnected. */
export function DisconnectForm({ connection, token }: { connection: AdminConnection; token: string }) {
  const [username, setUsername] = useState('');
  const [target, setTarget] = useState<PublicUser | null>(null);
  const { outcome, run } = useAction('Not disconnected: ');

  const lookUp = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const { user } = await api('userByName', { token, params: { username: username.trim() } });
      setTarget(user);
      return null;
    });
  };

  const disconnect = (user: PublicUser) => {
    setTarget(null);
    void run(async () => {
      await connection.disconnectUser(user.id);
      setUsername('');
      return `Disconnected “${user.username}” (user #${user.id}): every connection of theirs was closed.`;
    });
  };

  return (
    <section class="card" aria-labelledby="disconnect-title">
      <h2 id="disconnect-title">Disconnect a user</h2>
      <form onSubmit={lookUp}>
        <TextField
          id="disconnect-username"
          label="Username"
          autocomplete="off"
          maxLength={32}
          hint="Closes every connection of theirs (chat, notifications) on every node. The account stays: they can connect again."
          value={username}
          onValue={setUsername}
        />
        <button type="submit" class="danger">
          Disconnect…
        </button>
      </form>
      <OutcomeMessage outcome={outcome} />
      <ConfirmDialog
        open={target !== null}
        title={`Disconnect “${target?.username ?? ''}”?`}
        confirmLabel={`Disconnect ${target?.username ?? ''}`}
        onConfirm={() => target && disconnect(target)}
        onCancel={() => setTarget(null)}
      >
        <p>
          Every connection of “{target?.username}” (user #{target?.id}) ends now, in every tab and on every node.
        </p>
      </ConfirmDialog>
    </section>
  );
}
