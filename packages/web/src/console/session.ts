import { signal } from '@preact/signals';
import type { PublicUser } from '@parley/protocol';

/** The admin signed in to the console in this tab: the token and its user. */
export interface AdminSession {
  token: string;
  user: PublicUser;
}

/**
 * Kept for the tab (sessionStorage), under a key of its own: signing in to or out of the
 * console leaves the chat app's session in the same tab alone, and the other way round.
 */
const KEY = 'parley.console.session';

function stored(): AdminSession | null {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as AdminSession | null;
  } catch {
    return null;
  }
}

/** The tab's admin session; null while signed out. */
export const session = signal<AdminSession | null>(stored());
/** Why the last session ended when the admin did not log out (a refused or revoked token). */
export const endedReason = signal<string | null>(null);

export function logIn(next: AdminSession): void {
  sessionStorage.setItem(KEY, JSON.stringify(next));
  endedReason.value = null;
  session.value = next;
}

export function logOut(reason: string | null = null): void {
  sessionStorage.removeItem(KEY);
  endedReason.value = reason;
  session.value = null;
}
