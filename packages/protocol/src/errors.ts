/**
 * The error-code registry: every stable code Parley sends over HTTP or Socket.IO,
 * with its HTTP status and a default human message. docs/PROTOCOL.md documents each one
 * (a test checks that).
 */
export const ERRORS = {
  invalid_payload: { status: 400, message: 'The payload is invalid' },
  cannot_follow_self: { status: 400, message: 'You cannot follow yourself' },
  unauthorized: { status: 401, message: 'Authentication required' },
  token_expired: { status: 401, message: 'The token has expired' },
  token_revoked: { status: 401, message: 'The token was revoked (password changed, account deleted or role changed)' },
  invalid_credentials: { status: 401, message: 'Wrong username or password' },
  forbidden: { status: 403, message: 'Not allowed' },
  not_found: { status: 404, message: 'Not found' },
  username_taken: { status: 409, message: 'That username is taken' },
  payload_too_large: { status: 413, message: 'The payload is too large' },
  rate_limited: { status: 429, message: 'Too many requests, slow down' },
  internal_error: { status: 500, message: 'Internal error' },
  unavailable: { status: 503, message: 'A dependency is unavailable' },
  web_unavailable: { status: 503, message: 'The web app is not built on this node: run `pnpm build` and restart it' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/**
 * An error carrying a stable code; thrown by domain code and mapped to HTTP or socket acks.
 * `retryAfterSec` (rate_limited, unavailable): when to try again, sent as HTTP Retry-After.
 */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryAfterSec: number | undefined;

  constructor(code: ErrorCode, message: string = ERRORS[code].message, options: { retryAfterSec?: number } = {}) {
    super(message);
    this.name = 'ParleyError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.retryAfterSec = options.retryAfterSec;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

export function errorBody(code: ErrorCode, message: string = ERRORS[code].message): ErrorBody {
  return { code, message };
}
