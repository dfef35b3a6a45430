import type { UserRepository } from '@parley/db';
import type { PublicUser } from '@parley/protocol';
import { hashPassword } from './passwords.ts';

/** Create the admin account, or reset its password and role: safe to run at every start. */
export async function ensureAdmin(
  users: Pick<UserRepository, 'upsert'>,
  credentials: { username: string; password: string },
  scryptCost: number,
): Promise<PublicUser> {
  return users.upsert(credentials.username, await hashPassword(credentials.password, scryptCost), 'admin');
}
