/**
 * What the app remembers for a user across reloads and tabs on this browser (localStorage): the
 * position of the last private message it has. Never the token (that stays in the tab's
 * sessionStorage); the rooms, conversations and unread counts are the server's (read state).
 */
export function remembered<T>(userId: number, name: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(`parley.${userId}.${name}`);
    return raw === null ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

export function remember(userId: number, name: string, value: unknown): void {
  try {
    localStorage.setItem(`parley.${userId}.${name}`, JSON.stringify(value));
  } catch {
    // Storage full or disabled: the app works, it only forgets on reload.
  }
}
