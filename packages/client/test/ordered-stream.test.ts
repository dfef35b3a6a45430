import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OrderedStream } from '../src/ordered-stream.ts';

// Pure logic with a fake clock: what reaches the application, in which order, and when a gap
// makes the stream ask for a catch-up.

interface Msg {
  position: number;
}

const GAP_WAIT_MS = 1000;

function harness() {
  const delivered: number[] = [];
  let gaps = 0;
  let catchUp: (stream: OrderedStream<Msg>) => Promise<void> = async () => undefined;
  const stream: OrderedStream<Msg> = new OrderedStream<Msg>({
    positionOf: (m) => m.position,
    deliver: (m) => delivered.push(m.position),
    onGap: () => {
      gaps++;
      return catchUp(stream);
    },
    gapWaitMs: GAP_WAIT_MS,
  });
  const offer = (...positions: number[]) => positions.forEach((position) => stream.offer({ position }));
  return {
    stream,
    delivered,
    offer,
    gaps: () => gaps,
    onCatchUp: (fn: (stream: OrderedStream<Msg>) => Promise<void>) => (catchUp = fn),
  };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('OrderedStream', () => {
  it('delivers nothing before it knows where it starts, then only what follows', () => {
    const h = harness();
    h.offer(4, 6, 5);
    expect(h.delivered).toEqual([]);
    h.stream.settle(4);
    expect(h.delivered).toEqual([5, 6]);
    expect(h.stream.position).toBe(6);
  });

  it('delivers in-order messages at once, holds those behind a gap until it is filled, drops repeats', () => {
    const h = harness();
    h.stream.settle(0);
    h.offer(1, 2);
    expect(h.delivered).toEqual([1, 2]);
    h.offer(4, 5, 2, 4);
    expect(h.delivered).toEqual([1, 2]);
    h.offer(3);
    expect(h.delivered).toEqual([1, 2, 3, 4, 5]);
    h.offer(3, 5, 1);
    expect(h.delivered).toEqual([1, 2, 3, 4, 5]);
    vi.advanceTimersByTime(GAP_WAIT_MS * 2);
    expect(h.gaps()).toBe(0);
  });

  it('asks for a catch-up when a gap lasts gapWaitMs (up to 1.5 times, at random), and not before', async () => {
    const h = harness();
    h.stream.settle(0);
    h.onCatchUp(async (stream) => {
      stream.offer({ position: 2 });
      stream.settle(3);
    });
    h.offer(1, 3);
    vi.advanceTimersByTime(GAP_WAIT_MS - 1);
    expect(h.gaps()).toBe(0);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS / 2 + 1);
    expect(h.gaps()).toBe(1);
    expect(h.delivered).toEqual([1, 2, 3]);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 3);
    expect(h.gaps()).toBe(1);
  });

  it('asks again while the gap stays, also after a failed catch-up', async () => {
    const h = harness();
    h.stream.settle(0);
    h.onCatchUp(() => Promise.reject(new Error('ack timed out')));
    h.offer(2);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 4.5);
    expect(h.gaps()).toBeGreaterThanOrEqual(3);
    const asked = h.gaps();
    h.offer(1);
    expect(h.delivered).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 3);
    expect(h.gaps()).toBe(asked);
  });

  it('settle passes over positions that no longer exist, delivering what it holds in order', () => {
    const h = harness();
    h.stream.settle(0);
    h.offer(1, 3, 6);
    h.stream.settle(5);
    expect(h.delivered).toEqual([1, 3, 6]);
    expect(h.stream.position).toBe(6);
  });

  it('skip passes over a position without delivering it (a message this client sent)', () => {
    const h = harness();
    h.stream.settle(0);
    h.offer(2);
    h.stream.skip(1);
    h.stream.skip(1);
    h.offer(1);
    expect(h.delivered).toEqual([2]);
    expect(h.stream.position).toBe(2);
  });

  it('close stops a pending gap timer', async () => {
    const h = harness();
    h.stream.settle(0);
    h.offer(2);
    h.stream.close();
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 2);
    expect(h.gaps()).toBe(0);
  });

  it('one catch-up at a time: messages arriving behind the gap meanwhile start no other', async () => {
    const h = harness();
    h.stream.settle(0);
    let finish!: () => void;
    h.onCatchUp(() => new Promise<void>((resolve) => (finish = resolve)));
    h.offer(2);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 1.5);
    expect(h.gaps()).toBe(1);
    for (const position of [3, 4, 5]) {
      h.offer(position);
      await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 1.5);
    }
    expect(h.gaps()).toBe(1);
    finish();
    // The gap is still there: it waits again, then asks again.
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 1.5);
    expect(h.gaps()).toBe(2);
  });

  it('after close nothing is delivered, not even what a catch-up in flight brings, and no timer is left', async () => {
    const h = harness();
    h.stream.settle(0);
    let finish!: () => void;
    h.onCatchUp((stream) => new Promise<void>((resolve) => (finish = resolve)).then(() => stream.offer({ position: 1 })));
    h.offer(2);
    await vi.advanceTimersByTimeAsync(GAP_WAIT_MS * 1.5);
    h.stream.close();
    finish();
    await vi.advanceTimersByTimeAsync(0);
    h.offer(3);
    h.stream.settle(3);
    expect(h.delivered).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a message without a position (a node from before positions) is not held: it cannot wedge the stream', async () => {
    const h = harness();
    h.stream.settle(0);
    h.stream.offer({ position: undefined as unknown as number });
    h.offer(1);
    expect(h.delivered).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
