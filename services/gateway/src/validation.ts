import type { z } from 'zod';
import { ParleyError } from '@parley/protocol';

/** Parse untrusted input or throw ParleyError('invalid_payload') naming the first problem. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new ParleyError('invalid_payload', `${where}${issue?.message ?? 'invalid'}`);
}
