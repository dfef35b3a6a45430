import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/domain/token-bucket.ts';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const takeAll = (bucket: TokenBucket, n: number) => Array.from({ length: n }, () => bucket.take());

describe('TokenBucket', () => {
  it('allows a full burst, then refuses', () => {
    const bucket = new TokenBucket(10, 3, clock().now);
    expect(takeAll(bucket, 4)).toEqual([true, true, true, false]);
  });

  it('refills at the rate, by elapsed time', () => {
    const c = clock();
    const bucket = new TokenBucket(10, 3, c.now);
    takeAll(bucket, 3);
    c.advance(99);
    expect(bucket.take()).toBe(false);
    c.advance(1);
    expect(bucket.take()).toBe(true);
    expect(bucket.take()).toBe(false);
  });

  it('never holds more than the burst however long it was idle', () => {
    const c = clock();
    const bucket = new TokenBucket(10, 3, c.now);
    c.advance(3_600_000);
    expect(takeAll(bucket, 4)).toEqual([true, true, true, false]);
  });

  it('refused attempts do not spend tokens', () => {
    const c = clock();
    const bucket = new TokenBucket(1, 1, c.now);
    bucket.take();
    takeAll(bucket, 100);
    c.advance(1000);
    expect(bucket.take()).toBe(true);
  });

  it('handles fractional rates', () => {
    const c = clock();
    const bucket = new TokenBucket(0.5, 1, c.now);
    bucket.take();
    c.advance(1999);
    expect(bucket.take()).toBe(false);
    c.advance(1);
    expect(bucket.take()).toBe(true);
  });
});
