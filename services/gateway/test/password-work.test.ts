import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { http, registerUser, uniqueName, type Session, type TestNodeWithDatabase } from '@parley/testkit';
import { startNodeWithDatabase } from '@parley/testkit';

// scrypt runs on libuv's small thread pool: a flood of logins must be refused at once beyond a
// bounded queue (503 unavailable, Retry-After) instead of waiting, and the rest of the node
// stays responsive.

/** About half a second of scrypt each here: every request of a burst arrives while the first is hashed. */
const COST = 2 ** 16;
const CONCURRENCY = 1;
const QUEUE = 2;

let node: TestNodeWithDatabase;
let user: Session;
beforeAll(async () => {
  node = await startNodeWithDatabase(inject('postgresUrl'), {
    SCRYPT_COST: String(COST),
    SCRYPT_CONCURRENCY: String(CONCURRENCY),
    SCRYPT_QUEUE_MAX: String(QUEUE),
  });
  user = await registerUser(node.url);
});
afterAll(() => node?.close());

interface Answer {
  status: number;
  body: unknown;
  retryAfter: string | null;
  at: number;
}

async function timed(res: ReturnType<typeof http>): Promise<Answer> {
  const { status, body, headers } = await res;
  return { status, body, retryAfter: headers.get('retry-after'), at: performance.now() };
}

describe('password hashing is bounded (SCRYPT_CONCURRENCY, SCRYPT_QUEUE_MAX)', () => {
  it('a burst of logins and registrations beyond the queue is refused at once with 503 unavailable; the others are answered', async () => {
    const burst = Array.from({ length: 12 }, (_, i) =>
      timed(
        i % 2
          ? http(node.url, 'POST', '/auth/login', { body: { username: user.user.username, password: 'wrong-password' } })
          : http(node.url, 'POST', '/auth/register', { body: { username: uniqueName(), password: 'password123' } }),
      ),
    );
    // Meanwhile, a request that needs no password work is answered.
    const me = await http(node.url, 'GET', '/me', { token: user.token });
    expect(me.status).toBe(200);
    const answers = await Promise.all(burst);

    const served = answers.filter((a) => a.status === 401 || a.status === 201);
    const refused = answers.filter((a) => a.status === 503);
    expect(served).toHaveLength(CONCURRENCY + QUEUE);
    expect(refused).toHaveLength(answers.length - CONCURRENCY - QUEUE);
    for (const r of refused) {
      expect(r.body).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
      expect(r.retryAfter).toBe('1');
    }
    // Refused without waiting: every refusal came before the first hash finished.
    expect(Math.max(...refused.map((r) => r.at))).toBeLessThan(Math.min(...served.map((s) => s.at)));
    // And the queue drains: the next login is served.
    expect((await http(node.url, 'POST', '/auth/login', { body: { username: user.user.username, password: 'password123' } })).status).toBe(
      200,
    );
  });
});
