import { ParleyClientError } from '@parley/client';
import { ApiError } from '../chat/api.ts';

/** What went wrong, for the admin: the server's message and its stable code (errors.ts), when there is one. */
export interface Problem {
  message: string;
  code?: string;
}

/** A refusal from the server (HTTP or an ack) keeps its code; a timeout or anything else says what to do. */
export function problemOf(err: unknown): Problem {
  if (err instanceof ApiError || err instanceof ParleyClientError) return { message: err.message, code: err.code };
  if (err instanceof Error && err.message.includes('timed out')) return { message: 'The server did not answer in time. Try again.' };
  return { message: 'Something went wrong. Try again.' };
}

/** The problem as one line: its message, then its code. */
export function problemText({ message, code }: Problem): string {
  return code ? `${message} (code ${code})` : message;
}
