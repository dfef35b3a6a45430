import { STATUS_CODES } from 'node:http';
import { ParleyError, type ErrorBody } from '@parley/protocol';

/** Socket-level failures: the peer is not there or went away. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** Prisma's "cannot reach / cannot use the database" codes (P1xxx) and its pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1003', 'P1008', 'P1017', 'P2024']);
/** Driver-adapter error kinds that mean the same. */
const ADAPTER_KINDS = new Set([
  'DatabaseDoesNotExist',
  'DatabaseNotReachable',
  'DatabaseAccessDenied',
  'AuthenticationFailed',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'TlsConnectionError',
]);
/**
 * PostgreSQL SQLSTATEs: connection exceptions (08), insufficient resources (53), operator
 * intervention such as a terminated connection (57P) or a statement cancelled by
 * statement_timeout (57014), a database that does not exist (3D000), refused credentials (28).
 */
const SQLSTATE_UNAVAILABLE = /^(08|53|57P|57014$|3D000$|28)/;
/**
 * Errors node-postgres and ioredis raise without a code when the connection is gone or did not
 * answer within its bound (pg's query_timeout, ioredis' commandTimeout and disabled offline queue).
 */
const MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error/,
  /^Connection is closed/,
  /not queryable/,
  /^Query read timeout/,
  /^Command timed out/,
  /enableOfflineQueue options is false/,
];

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  kind?: unknown;
  originalCode?: unknown;
  meta?: { driverAdapterError?: unknown };
}

/** The error and what it wraps (`cause`, Prisma's driver-adapter error), outermost first. */
function* chain(err: unknown): Generator<ErrorLike> {
  const seen = new Set<unknown>();
  const queue = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const like = e as ErrorLike;
    yield like;
    queue.push(like.cause, like.meta?.driverAdapterError);
  }
}

/** True when `err` says a dependency (PostgreSQL, Redis) cannot be reached or used right now. */
export function isUnavailable(err: unknown): boolean {
  for (const e of chain(err)) {
    if (e instanceof ParleyError) return e.code === 'unavailable';
    const code = typeof e.code === 'string' ? e.code : typeof e.originalCode === 'string' ? e.originalCode : '';
    if (SOCKET_CODES.has(code) || PRISMA_CODES.has(code)) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && SQLSTATE_UNAVAILABLE.test(code)) return true;
    if (typeof e.kind === 'string' && ADAPTER_KINDS.has(e.kind)) return true;
    if (e.name === 'MaxRetriesPerRequestError') return true;
    if (typeof e.message === 'string' && MESSAGES.some((m) => m.test(e.message as string))) return true;
  }
  return false;
}

/**
 * The one mapping from anything thrown to a stable code, for HTTP answers, socket acks and
 * handshakes alike: a ParleyError keeps its code; a dependency that cannot be reached is
 * `unavailable`; anything else is a bug, `internal_error` (with the default message: the
 * details go to the log, never to the client).
 */
export function toParleyError(err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  return new ParleyError(isUnavailable(err) ? 'unavailable' : 'internal_error');
}

/**
 * A whole HTTP response carrying `body` in the protocol's error shape, for a raw socket that
 * has no response object yet (a request Node's parser refused, a WebSocket upgrade); the
 * connection is closed after it.
 */
export function rawErrorResponse(status: number, body: ErrorBody): string {
  const json = JSON.stringify({ error: body });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`;
}
