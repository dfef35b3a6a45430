import { describe, expect, it } from 'vitest';
import { ParleyError } from '@parley/protocol';
import { createPasswordHasher, hashPassword, verifyPassword } from '../../src/domain/passwords.ts';

const COST = 1024;

describe('passwords', () => {
  it('hashes with a random salt in the scrypt$N$r$p$salt$hash format', async () => {
    const [a, b] = await Promise.all([hashPassword('correct horse', COST), hashPassword('correct horse', COST)]);
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct horse');
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hashPassword('correct horse', COST);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['another scheme', 'bcrypt$2b$10$abc'],
    ['missing parts', 'scrypt$1024$8$1$c2FsdA=='],
    ['N not a power of two', 'scrypt$1000$8$1$c2FsdA==$aGFzaA=='],
    ['N not a number', 'scrypt$abc$8$1$c2FsdA==$aGFzaA=='],
    ['r zero', 'scrypt$1024$0$1$c2FsdA==$aGFzaA=='],
    ['absurd memory', 'scrypt$1073741824$8$1$c2FsdA==$aGFzaA=='],
    ['a short hash', 'scrypt$1024$8$1$c2FsdA==$aGFzaA=='],
  ])('returns false (never throws) for a malformed stored hash: %s', async (_name, stored) => {
    await expect(verifyPassword('password123', stored)).resolves.toBe(false);
  });

  it('a bounded hasher refuses at once (unavailable, retry after 1 s) what exceeds concurrency + queue, and serves the rest', async () => {
    const passwords = createPasswordHasher({ cost: COST, concurrency: 1, queueMax: 1 });
    const calls = [
      passwords.hash('one password'),
      passwords.hash('two password'),
      passwords.verify('three', 'scrypt$1024$8$1$c2FsdA==$aGFzaA=='),
    ];
    const [first, second, third] = (await Promise.allSettled(calls)) as [
      PromiseFulfilledResult<string>,
      PromiseSettledResult<string>,
      PromiseRejectedResult,
    ];
    expect([first.status, second.status, third.status]).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    expect(third.reason).toBeInstanceOf(ParleyError);
    expect(third.reason).toMatchObject({ code: 'unavailable', retryAfterSec: 1 });
    // Room again once those are done.
    expect(await passwords.verify('one password', first.value)).toBe(true);
  });
});
