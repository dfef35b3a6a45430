import type { z } from 'zod';
import { ParleyError } from '@parley/protocol';

/** Parse untrusted input or throw ParleyError('invalid_payload') naming the first problem. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ParleyError('invalid_payload', describeIssue(issue?.path ?? [], issue?.message));
}

/** The message of an invalid_payload error: where the first problem is, and what. */
export function describeIssue(path: readonly PropertyKey[], message = 'invalid'): string {
  return path.length > 0 ? `${path.map(String).join('.')}: ${message}` : message;
}
