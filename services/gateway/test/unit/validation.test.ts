import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ParleyError } from '@parley/protocol';
import { parse } from '../../src/domain/validation.ts';

describe('parse', () => {
  const schema = z.object({ room: z.string().min(1), n: z.number().optional() });

  it('returns the parsed value', () => {
    expect(parse(schema, { room: 'a', extra: 1 })).toEqual({ room: 'a' });
  });

  it('throws ParleyError invalid_payload naming the first bad field', () => {
    let thrown: unknown;
    try {
      parse(schema, { room: '', n: 'x' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ParleyError);
    expect((thrown as ParleyError).code).toBe('invalid_payload');
    expect((thrown as ParleyError).status).toBe(400);
    expect((thrown as ParleyError).message).toMatch(/^room: /);
  });

  it('reports a bad top-level value without a path', () => {
    expect(() => parse(schema, undefined)).toThrow(ParleyError);
  });
});
