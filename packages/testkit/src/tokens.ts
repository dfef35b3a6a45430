import { createHmac } from 'node:crypto';
import type { PublicUser, Role } from '@parley/protocol';
import { TEST_JWT_SECRET } from './node.ts';

export interface TokenOptions {
  /** @default TEST_JWT_SECRET */
  secret?: string;
  /** Seconds from now until `exp`; negative for an already expired token. @default 3600 */
  expiresInSec?: number;
  /** Claims added to (or, set to undefined, removed from) the ones the server issues. */
  claims?: Record<string, unknown>;
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * An HS256 JWT with arbitrary claims, made without the server: expired tokens, tokens signed
 * with another secret, claims the server never issues.
 */
export function signToken(claims: Record<string, unknown>, { secret = TEST_JWT_SECRET, expiresInSec = 3600 }: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = base64url(JSON.stringify({ iat: now, exp: now + expiresInSec, ...claims }));
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

/**
 * A token with the claims the server issues for `user` (role overridable), at token version 0
 * (an account whose password, role and existence never changed).
 */
export function tokenFor(user: Pick<PublicUser, 'id' | 'username'> & { role?: Role }, options: TokenOptions = {}): string {
  const claims = { sub: String(user.id), username: user.username, role: user.role ?? 'user', iss: 'parley', ver: 0, ...options.claims };
  return signToken(claims, options);
}
