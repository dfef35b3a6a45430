import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';
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

  it('with lingerMs, an idle writer waits that long for more items, then writes them in one batch', async () => {
    vi.useFakeTimers();
    onTestFinished(() => void vi.useRealTimers());
    const store = controlledStore();
    const writer = new GroupCommit<number, number>(store.write, { lingerMs: 5 });
    const first = writer.submit(1);
    await vi.advanceTimersByTimeAsync(4);
    expect(store.batches).toEqual([]);
    const second = writer.submit(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.batches).toEqual([[1, 2]]);
    // What queues during a write goes right after it, without lingering again.
    const third = writer.submit(3);
    store.flush();
    expect(await Promise.all([first, second])).toEqual([10, 20]);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.batches).toEqual([[1, 2], [3]]);
    store.flush();
    expect(await third).toBe(30);
  });

  it('caps a batch at maxBatch', async () => {
    const sizes: number[] = [];
    const writer = new GroupCommit<number, number>(
      async (items) => {
        sizes.push(items.length);
        return items;
      },
      { maxBatch: 2 },
    );
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

  describe('bounds', () => {
    afterEach(() => {
      vi.useRealTimers();
    });
    const turn = () => new Promise((r) => setImmediate(r));

    it('refuses at once with unavailable what exceeds maxPending, and takes items again once there is room', async () => {
      const store = controlledStore();
      const writer = new GroupCommit<number, number>(store.write, { maxPending: 2 });
      const first = writer.submit(1);
      await turn();
      // 1 is in flight; 2 and 3 wait; 4 finds the queue full.
      const waiting = [writer.submit(2), writer.submit(3)];
      await expect(writer.submit(4)).rejects.toMatchObject({ name: 'ParleyError', code: 'unavailable' });
      expect(writer.pending).toBe(2);
      store.flush();
      expect(await first).toBe(10);
      await turn();
      expect(store.batches).toEqual([[1], [2, 3]]);
      const later = writer.submit(5);
      store.flush();
      expect(await Promise.all(waiting)).toEqual([20, 30]);
      await turn();
      store.flush();
      expect(await later).toBe(50);
    });

    it('answers unavailable after maxWaitMs; an item that timed out while queued is never written', async () => {
      const unavailable = expect.objectContaining({ name: 'ParleyError', code: 'unavailable' });
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const store = controlledStore();
      const writer = new GroupCommit<number, number>(store.write, { maxWaitMs: 1000 });
      const first = writer.submit(1);
      await turn();
      const second = writer.submit(2);
      const outcomes = Promise.allSettled([first, second]);
      vi.advanceTimersByTime(1000);
      expect(await outcomes).toEqual([
        { status: 'rejected', reason: unavailable },
        { status: 'rejected', reason: unavailable },
      ]);
      expect(writer.pending).toBe(0);
      store.flush();
      await writer.drain();
      expect(store.batches).toEqual([[1]]);
    });

    it('a batch that fails because the store is unavailable fails whole, without writing each item again', async () => {
      let writes = 0;
      const writer = new GroupCommit<number, number>(async () => {
        writes += 1;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      });
      const results = await Promise.allSettled([1, 2, 3].map((i) => writer.submit(i)));
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(writes).toBe(1);
    });
  });
});
