import { useState } from 'preact/hooks';
import { ParleyClientError } from '@parley/client';
import { api } from '../../chat/api.ts';
import { Alert } from '../../chat/components/alert.tsx';
import { endedReason, logIn } from '../session.ts';
import { useAction } from '../use-action.ts';
import { TextField } from './text-field.tsx';

/** Log in with an admin account; any other account is refused here, before anything is kept. */
export function SignIn() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const { busy, outcome, run } = useAction();

  const submit = (event: Event) => {
    event.preventDefault();
    void run(async () => {
      const { token, user } = await api('login', { body: { username: username.trim(), password } });
      if (user.role !== 'admin') {
        throw new ParleyClientError(
          'forbidden',
          `“${user.username}” is not an admin: the console is for admins only. An operator makes an account an admin with “pnpm cli set-role ${user.username} admin”.`,
        );
      }
      logIn({ token, user });
      return null;
    });
  };

  return (
    <main class="console-sign-in">
      <h1>Parley console</h1>
      <p class="hint">For operators: the cluster's nodes, connections and rooms, announcements, disconnecting a user.</p>
      {endedReason.value && (
        <p class="notice" role="status">
          {endedReason.value}
        </p>
      )}
      <form onSubmit={submit} aria-labelledby="log-in-title">
        <h2 id="log-in-title">Admin log-in</h2>
        <TextField id="username" label="Username" autocomplete="username" maxLength={32} value={username} onValue={setUsername} />
        <TextField
          id="password"
          label="Password"
          secret
          autocomplete="current-password"
          maxLength={128}
          value={password}
          onValue={setPassword}
        />
        <Alert message={outcome?.text ?? null} />
        <button type="submit" class="primary" disabled={busy}>
          Log in
        </button>
      </form>
      <p>
        Looking for the chat? It is at <a href="/">the home page</a>.
      </p>
    </main>
  );
}
