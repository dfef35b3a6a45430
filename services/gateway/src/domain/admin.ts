import type { UserRepository } from '@parley/db';
import { ParleyError, type PublicUser } from '@parley/protocol';
import type { PasswordHasher } from './passwords.ts';

/**
 * Create the admin account, or reset the password of the existing admin when it differs: safe
 * to run at every start (an unchanged password keeps the admin's tokens valid; a new one
 * revokes them). An existing account that is not an admin is never promoted (whoever
 * registered that name would become admin).
 * @throws ParleyError('username_taken')
 */
export async function ensureAdmin(
  users: Pick<UserRepository, 'createOrResetAdmin' | 'findByUsername'>,
  credentials: { username: string; password: string },
  passwords: PasswordHasher,
): Promise<PublicUser> {
  const existing = await users.findByUsername(credentials.username);
  if (existing?.role === 'admin' && (await passwords.verify(credentials.password, existing.passwordHash))) {
    return { id: existing.id, username: existing.username, role: existing.role };
  }
  const admin = await users.createOrResetAdmin(credentials.username, await passwords.hash(credentials.password));
  if (admin) return admin;
  throw new ParleyError(
    'username_taken',
    `"${credentials.username}" is an existing account without the admin role: it is not promoted; choose another admin username`,
  );
}
