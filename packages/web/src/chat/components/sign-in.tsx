import { Alert } from './alert.tsx';
import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { sessionEndedReason, signIn } from '../session.ts';
import { describeError } from '../store/chat-store.ts';

/** Sign in, or create an account (the same form): the token is kept for this tab. */
export function SignIn() {
  const [mode, setMode] = useState<'login' | 'register'>('login');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const registering = mode === 'register';

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { username: username.trim(), password };
      signIn(registering ? await api('register', { body }) : await api('login', { body }));
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="sign-in">
      <h1>Parley</h1>
      <p class="tagline">Chat rooms, private messages and posts, live.</p>
      {sessionEndedReason.value && (
        <p class="notice" role="status">
          {sessionEndedReason.value}
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} aria-labelledby="sign-in-title">
        <h2 id="sign-in-title">{registering ? 'Create an account' : 'Sign in'}</h2>
        <label for="username">Username</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          minLength={registering ? 3 : 1}
          maxLength={32}
          pattern={registering ? '[A-Za-z0-9_.\\-]+' : undefined}
          aria-describedby={registering ? 'username-rules' : undefined}
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        {registering && (
          <p id="username-rules" class="hint">
            3–32 letters, digits, “_”, “.” or “-”.
          </p>
        )}
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete={registering ? 'new-password' : 'current-password'}
          required
          minLength={registering ? 8 : 1}
          maxLength={128}
          aria-describedby={registering ? 'password-rules' : undefined}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {registering && (
          <p id="password-rules" class="hint">
            At least 8 characters.
          </p>
        )}
        <Alert message={error} />
        <button type="submit" class="primary" disabled={busy}>
          {registering ? 'Create account' : 'Sign in'}
        </button>
      </form>
      <p>
        {registering ? 'Already have an account?' : 'New here?'}{' '}
        <button
          type="button"
          class="link"
          onClick={() => {
            setMode(registering ? 'login' : 'register');
            setError(null);
          }}
        >
          {registering ? 'Sign in' : 'Create an account'}
        </button>
      </p>
    </main>
  );
}
