import { useState } from 'preact/hooks';
import { api } from '../../chat/api.ts';
import { problemOf, type Problem } from '../problem.ts';
import { endedReason, logIn } from '../session.ts';
import { ProblemAlert } from './feedback.tsx';

/** Log in with an admin account; any other account is refused here, before anything is kept. */
export function SignIn() {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      const { token, user } = await api('login', { body: { username: username.trim(), password } });
      if (user.role === 'admin') logIn({ token, user });
      else
        setProblem({
          message: `“${user.username}” is not an admin: the console is for admins only. An operator makes an account an admin with “pnpm cli set-role ${user.username} admin”.`,
          code: 'forbidden',
        });
    } catch (err) {
      setProblem(problemOf(err));
    } finally {
      setBusy(false);
    }
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
      <form onSubmit={(e) => void submit(e)} aria-labelledby="log-in-title">
        <h2 id="log-in-title">Admin log-in</h2>
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          maxLength={32}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          maxLength={128}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {problem && <ProblemAlert problem={problem} />}
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
