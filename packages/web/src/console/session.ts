import { tabSession, type Session } from '../shared/tab-session.ts';

/** The admin logged in to the console in this tab. */
export type AdminSession = Session;

/**
 * Under a key of its own: logging in to or out of the console leaves the chat app's session in
 * the same tab alone, and the other way round.
 */
const admin = tabSession('parley.console.session');

export const session = admin.session;
/** Why the last session ended when the admin did not log out (a refused or revoked token). */
export const endedReason = admin.ended;
export const logIn = admin.start;
export const logOut = admin.end;
