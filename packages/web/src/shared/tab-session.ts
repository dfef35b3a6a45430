import { signal } from '@preact/signals';
import type { PublicUser } from '@parley/protocol';

/** Who is signed in: the token and its user. */
export interface Session {
  token: string;
  user: PublicUser;
}

/**
 * A sign-in kept for the browser tab (sessionStorage under `key`): a reload stays signed in,
 * another tab signs in on its own. `ended` says why the last session ended when the user did not
 * end it (an expired or revoked token).
 * @example
 * const admin = tabSession('parley.console.session');
 * admin.start({ token, user });
 * admin.end('Your session expired. Log in again.');
 */
export function tabSession(key: string) {
  let stored: Session | null = null;
  try {
    stored = JSON.parse(sessionStorage.getItem(key) ?? 'null') as Session | null;
  } catch {
    // Unreadable: signed out.
  }
  const session = signal<Session | null>(stored);
  const ended = signal<string | null>(null);
  return {
    /** The tab's session; null while signed out. */
    session,
    ended,
    start: (next: Session): void => {
      sessionStorage.setItem(key, JSON.stringify(next));
      ended.value = null;
      session.value = next;
    },
    end: (reason: string | null = null): void => {
      sessionStorage.removeItem(key);
      ended.value = reason;
      session.value = null;
    },
  };
}
