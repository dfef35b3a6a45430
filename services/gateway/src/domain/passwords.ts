import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import pLimit from 'p-limit';
import { ParleyError } from '@parley/protocol';

const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Hash a password with scrypt (node:crypto). Format: `scrypt$N$r$p$salt$hash` (base64). */
export async function hashPassword(password: string, cost: number): Promise<string> {
  const salt = randomBytes(16);
  const options = { N: cost, r: 8, p: 1, maxmem: 256 * cost * 8 };
  const key = await derive(password, salt, options);
  return ['scrypt', cost, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
}

/** Constant-time check of `password` against a stored hash; false for malformed hashes (never throws). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const [N, R, P] = [Number(n), Number(r), Number(p)];
  const expected = Buffer.from(hash, 'base64');
  try {
    const key = await derive(password, Buffer.from(salt, 'base64'), { N, r: R, p: P, maxmem: 256 * N * R });
    return key.length === expected.length && timingSafeEqual(key, expected);
  } catch {
    // Parameters scrypt refuses (N not a power of two, out of range...): not a hash we made.
    return false;
  }
}

export interface PasswordHasherOptions {
  /** scrypt N of new hashes. */
  cost: number;
  /** Hashes computed at once (each holds one of libuv's threads, 4 by default). */
  concurrency: number;
  /** Hashes that may wait for a turn; beyond that a call fails at once. */
  queueMax: number;
}

/** Password hashing with bounded work: every hash and check of the node goes through it. */
export interface PasswordHasher {
  /** @throws ParleyError('unavailable', retryAfterSec 1) when the queue is full */
  hash(password: string): Promise<string>;
  /** @throws ParleyError('unavailable', retryAfterSec 1) when the queue is full */
  verify(password: string, stored: string): Promise<boolean>;
}

/**
 * scrypt behind a bounded queue: at most `concurrency` hashes run on libuv's thread pool (the
 * rest of the node keeps its threads for files and DNS), at most `queueMax` wait, and any more
 * are refused at once with 'unavailable' instead of waiting behind a flood.
 * @example const passwords = createPasswordHasher({ cost: 16384, concurrency: 2, queueMax: 32 });
 */
export function createPasswordHasher(options: PasswordHasherOptions): PasswordHasher {
  const limit = pLimit(options.concurrency);
  const bounded = async <T>(work: () => Promise<T>): Promise<T> => {
    if (limit.activeCount + limit.pendingCount >= options.concurrency + options.queueMax) {
      throw new ParleyError('unavailable', 'Too many password checks in progress; try again in a moment', { retryAfterSec: 1 });
    }
    return limit(work);
  };
  return {
    hash: (password) => bounded(() => hashPassword(password, options.cost)),
    verify: (password, stored) => bounded(() => verifyPassword(password, stored)),
  };
}
