import type { z } from 'zod';
import { isErrorCode, ParleyError } from '@parley/protocol';

/**
 * Parse untrusted input or throw a ParleyError naming the first problem: 'invalid_payload', or
 * the code a schema gives its issue in `params.code` ('payload_too_large').
 */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const code = issue?.code === 'custom' && isErrorCode(issue.params?.code) ? issue.params.code : 'invalid_payload';
  throw new ParleyError(code, describeIssue(issue?.path ?? [], issue?.message));
}

/** The message of an invalid_payload error: where the first problem is, and what. */
export function describeIssue(path: readonly PropertyKey[], message = 'invalid'): string {
  return path.length > 0 ? `${path.map(String).join('.')}: ${message}` : message;
}
