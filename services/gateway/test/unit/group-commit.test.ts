import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/domain/group-commit.ts';

/** A store whose writes finish when the test says so. */
function controlledStore() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const write = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => pending.push(() => resolve(items.map((i) => i * 10))));
  };
  const flush = () => pending.splice(0).forEach((release) => release());
  return { batches, write, flush };
}

describe('GroupCommit', () => {
  it('writes items submitted in one turn as one batch, results in order', async () => {
    const writer = new GroupCommit<number, number>(async (items) => items.map((i) => i * 2));
    expect(await Promise.all([1, 2, 3].map((i) => writer.submit(i)))).toEqual([2, 4, 6]);
  });

  it('collects what arrives during a write into the next batch', async () => {
    const store = controlledStore();
    const writer = new GroupCommit<number, number>(store.write);
    const first = writer.submit(1);
    await new Promise((r) => setImmediate(r));
    expect(store.batches).toEqual([[1]]);
    const later = [2, 3, 4].map((i) => writer.submit(i));
    store.flush();
    expect(await first).toBe(10);
    await new Promise((r) => setImmediate(r));
    expect(store.batches).toEqual([[1], [2, 3, 4]]);
    store.flush();
    expect(await Promise.all(later)).toEqual([20, 30, 40]);
  });

  it('caps a batch at maxBatch', async () => {
    const sizes: number[] = [];
    const writer = new GroupCommit<number, number>(async (items) => {
      sizes.push(items.length);
      return items;
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((i) => writer.submit(i)));
    expect(sizes).toEqual([2, 2, 1]);
  });

  it('when a batch fails, writes each item alone so only the bad one fails', async () => {
    const writer = new GroupCommit<number, number>(async (items) => {
      if (items.includes(13)) throw new Error('unlucky');
      return items;
    });
    const results = await Promise.allSettled([1, 13, 3].map((i) => writer.submit(i)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: new Error('unlucky') },
      { status: 'fulfilled', value: 3 },
    ]);
  });

  it('rejects a write that returns the wrong number of results', async () => {
    const writer = new GroupCommit<number, number>(async () => []);
    const results = await Promise.allSettled([writer.submit(1), writer.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });

  it('drain() waits for everything submitted so far', async () => {
    const store = controlledStore();
    const writer = new GroupCommit<number, number>(store.write);
    const done: number[] = [];
    void writer.submit(7).then((r) => done.push(r));
    const drained = writer.drain();
    await new Promise((r) => setImmediate(r));
    store.flush();
    await drained;
    expect(done).toEqual([70]);
    await expect(new GroupCommit<number, number>(store.write).drain()).resolves.toBeUndefined();
  });
});
