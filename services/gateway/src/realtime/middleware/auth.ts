import type { FastifyBaseLogger } from 'fastify';
import type { ExtendedError, Socket } from 'socket.io';
import { ParleyError, type ErrorBody, type Role } from '@parley/protocol';
import { toParleyError } from '../../domain/errors.ts';
import type { TokenSession } from '../sessions.ts';

type Middleware = (socket: Socket, next: (err?: ExtendedError) => void) => void;

/** Verifies a token and loads its account; throws ParleyError('unauthorized' | 'token_expired' | 'token_revoked'). */
export type ResolveSession = (token: string) => Promise<TokenSession>;

function rejection(message: 'Authentication error' | 'Forbidden', body: ErrorBody): ExtendedError {
  const err: ExtendedError = new Error(message);
  err.data = body;
  return err;
}

function tokenOf(socket: Socket): unknown {
  const auth = socket.handshake.auth as { token?: unknown } | undefined;
  if (auth?.token !== undefined) return auth.token;
  // Non-browser clients may send the token as a header instead.
  const header = socket.handshake.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}

/**
 * Handshake middleware: verifies `auth.token` (JWT), loads its account (a deleted account or
 * an older token version is refused; the stored role counts, not the token's) and stores the
 * session on socket.data.
 * Failure -> connect_error 'Authentication error' with data.code 'unauthorized',
 * 'token_expired' or 'token_revoked' ('unavailable' / 'internal_error' when the account cannot
 * be looked up); a role below `role` -> connect_error 'Forbidden' (data.code 'forbidden').
 */
export function authMiddleware(resolveSession: ResolveSession, log: FastifyBaseLogger, role?: Role): Middleware {
  return (socket, next) => {
    const token = tokenOf(socket);
    if (typeof token !== 'string' || token.length === 0) {
      return next(rejection('Authentication error', { code: 'unauthorized', message: 'Missing token' }));
    }
    resolveSession(token).then(
      ({ user, tokenVersion, expiresAt }) => {
        if (role && user.role !== role) {
          return next(rejection('Forbidden', { code: 'forbidden', message: `Requires role ${role}` }));
        }
        socket.data = { user, tokenVersion, expiresAt, buckets: {} };
        next();
      },
      (err: unknown) => {
        // A bad token is a ParleyError; anything else is the account lookup failing (unavailable
        // when the database cannot be reached, internal_error otherwise).
        if (!(err instanceof ParleyError)) log.error({ err, socketId: socket.id }, 'handshake: account lookup failed');
        next(rejection('Authentication error', toParleyError(err).toBody()));
      },
    );
  };
}

/** `middleware`, telling `refused` the code of each handshake it refuses (as is without `refused`). */
export function reportRefusals(middleware: Middleware, refused: ((code: string) => void) | undefined): Middleware {
  if (!refused) return middleware;
  return (socket, next) =>
    middleware(socket, (err) => {
      if (err) refused(String((err.data as ErrorBody | undefined)?.code));
      next(err);
    });
}
