/**
 * Errors that mean "the database does not answer" (down, restarting, unreachable, pool
 * exhausted), as opposed to a bad query or a bug. Callers map them to `unavailable` (503).
 */
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATE: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections. */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** Prisma: can't reach the server, timed out, server closed the connection, pool timeout. */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1017', 'P2024']);
/** pg's own errors, which carry no code. */
const PG_MESSAGES = [/^Connection terminated/, /timeout exceeded when trying to connect/, /Client has encountered a connection error/];

export function isDatabaseUnavailable(err: unknown): boolean {
  // Prisma and the driver adapter wrap the driver's error: look down the cause chain.
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string') {
      // SQLSTATE class 08: connection exception.
      if (NODE_CODES.has(code) || SQLSTATES.has(code) || PRISMA_CODES.has(code) || /^08...$/.test(code)) return true;
    }
    if (typeof message === 'string' && PG_MESSAGES.some((m) => m.test(message))) return true;
  }
  return false;
}
