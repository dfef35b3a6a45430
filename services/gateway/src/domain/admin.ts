import type { UserRepository } from '@parley/db';
import { ParleyError, type PublicUser } from '@parley/protocol';
import type { PasswordHasher } from './passwords.ts';

/**
 * Create the admin account, or reset the password of the existing admin: safe to run at every
 * start. An existing account that is not an admin is never promoted (whoever registered that
 * name would become admin).
 * @throws ParleyError('username_taken')
 */
export async function ensureAdmin(
  users: Pick<UserRepository, 'createOrResetAdmin'>,
  credentials: { username: string; password: string },
  passwords: Pick<PasswordHasher, 'hash'>,
): Promise<PublicUser> {
  const admin = await users.createOrResetAdmin(credentials.username, await passwords.hash(credentials.password));
  if (admin) return admin;
  throw new ParleyError(
    'username_taken',
    `"${credentials.username}" is an existing account without the admin role: it is not promoted; choose another admin username`,
  );
}
