import type { ExtendedError, Socket } from 'socket.io';
import { ParleyError, type ErrorBody, type PublicUser, type Role } from '@parley/protocol';

type Middleware = (socket: Socket, next: (err?: ExtendedError) => void) => void;

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
 * Handshake middleware: verifies `auth.token` (JWT) and stores the user on socket.data.
 * Failure -> connect_error 'Authentication error' with data.code 'unauthorized' or
 * 'token_expired'; a role below `role` -> connect_error 'Forbidden' (data.code 'forbidden').
 */
export function authMiddleware(verify: (token: string) => PublicUser, role?: Role): Middleware {
  return (socket, next) => {
    const token = tokenOf(socket);
    if (typeof token !== 'string' || token.length === 0) {
      return next(rejection('Authentication error', { code: 'unauthorized', message: 'Missing token' }));
    }
    let user: PublicUser;
    try {
      user = verify(token);
    } catch (err) {
      const body = err instanceof ParleyError ? err.toBody() : { code: 'unauthorized' as const, message: 'Invalid token' };
      return next(rejection('Authentication error', body));
    }
    if (role && user.role !== role) {
      return next(rejection('Forbidden', { code: 'forbidden', message: `Requires role ${role}` }));
    }
    socket.data.user = user;
    next();
  };
}
