import { signal } from '@preact/signals';
import type { PublicUser } from '@parley/protocol';

/** Who is signed in, in this tab: the token and its user. */
export interface Session {
  token: string;
  user: PublicUser;
}

/** Kept for the tab (sessionStorage): a reload stays signed in, another tab signs in on its own. */
const KEY = 'parley.session';

function stored(): Session | null {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Session | null;
  } catch {
    return null;
  }
}

/** The tab's session; null while signed out. */
export const session = signal<Session | null>(stored());
/** Why the last session ended when it was not the user's doing (an expired or revoked token). */
export const sessionEndedReason = signal<string | null>(null);

export function signIn(next: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(next));
  sessionEndedReason.value = null;
  session.value = next;
}

/** A newer token for the same user (refreshed before it expired). */
export function replaceToken(token: string): void {
  if (!session.value) return;
  signIn({ ...session.value, token });
}

export function signOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  sessionEndedReason.value = reason;
  session.value = null;
}
