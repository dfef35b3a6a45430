import { useState } from 'preact/hooks';
import type { PublicUser } from '@parley/protocol';
import { api } from '../../chat/api.ts';
import type { AdminConnection } from '../admin-connection.ts';
import { problemOf } from '../problem.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';
import { OutcomeMessage, type Outcome } from './feedback.tsx';

/** The announcement limit of the contract (announceSchema: 1–2000 characters). */
const ANNOUNCEMENT_MAX = 2000;

/** Write an announcement, confirm, and every connected user of every node gets it. */
export function AnnounceForm({ connection }: { connection: AdminConnection }) {
  const [text, setText] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const send = async () => {
    setConfirming(false);
    setBusy(true);
    setOutcome(null);
    try {
      await connection.announce(text);
      setOutcome({ ok: true, text: 'Announcement sent to every connected user.' });
      setText('');
    } catch (err) {
      setOutcome({ ok: false, problem: problemOf(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="announce-title">
      <h2 id="announce-title">Announce</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (busy) return;
          setOutcome(null);
          setConfirming(true);
        }}
      >
        <label for="announcement">Announcement</label>
        <textarea
          id="announcement"
          rows={3}
          required
          maxLength={ANNOUNCEMENT_MAX}
          aria-describedby="announcement-hint"
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <p id="announcement-hint" class="hint">
          Shown at once to everyone connected to the chat, on every node. Up to {ANNOUNCEMENT_MAX} characters.
        </p>
        {/* Never disabled: the dialog gives the focus back to it, and a disabled button would drop it. */}
        <button type="submit" class="primary">
          Send announcement…
        </button>
      </form>
      <OutcomeMessage outcome={outcome} failurePrefix="Not sent: " />
      <ConfirmDialog
        open={confirming}
        title="Send this announcement?"
        confirmLabel="Send to everyone"
        onConfirm={() => void send()}
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
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);

  const lookUp = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setOutcome(null);
    try {
      const { user } = await api('userByName', { token, params: { username: username.trim() } });
      setTarget(user);
    } catch (err) {
      setOutcome({ ok: false, problem: problemOf(err) });
    } finally {
      setBusy(false);
    }
  };

  const disconnect = async (user: PublicUser) => {
    setTarget(null);
    setBusy(true);
    try {
      await connection.disconnectUser(user.id);
      setOutcome({ ok: true, text: `Disconnected “${user.username}” (user #${user.id}): every connection of theirs was closed.` });
      setUsername('');
    } catch (err) {
      setOutcome({ ok: false, problem: problemOf(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="disconnect-title">
      <h2 id="disconnect-title">Disconnect a user</h2>
      <form onSubmit={(e) => void lookUp(e)}>
        <label for="disconnect-username">Username</label>
        <input
          id="disconnect-username"
          autocomplete="off"
          required
          maxLength={32}
          aria-describedby="disconnect-hint"
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <p id="disconnect-hint" class="hint">
          Closes every connection of theirs (chat, notifications) on every node. The account stays: they can connect again.
        </p>
        <button type="submit" class="danger">
          Disconnect…
        </button>
      </form>
      <OutcomeMessage outcome={outcome} failurePrefix="Not disconnected: " />
      <ConfirmDialog
        open={target !== null}
        title={`Disconnect “${target?.username ?? ''}”?`}
        confirmLabel={`Disconnect ${target?.username ?? ''}`}
        onConfirm={() => target && void disconnect(target)}
        onCancel={() => setTarget(null)}
      >
        <p>
          Every connection of “{target?.username}” (user #{target?.id}) ends now, in every tab and on every node.
        </p>
      </ConfirmDialog>
    </section>
  );
}
