import { ParleyError } from '@parley/protocol';
import { isUnavailable } from './errors.ts';

interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
  /** Settled (answered, refused or timed out): a late result is dropped. */
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface GroupCommitOptions {
  /** Most items one write takes. @default 1000 */
  maxBatch?: number;
  /** After a failed batch of several, write each item again on its own (not when the store is unavailable). @default true */
  retryAlone?: boolean;
  /** Items that may wait for a write; one more is refused with ParleyError('unavailable') at once. @default Infinity */
  maxPending?: number;
  /**
   * Longest an item waits for its result, from `submit`: then it is answered
   * ParleyError('unavailable'); if it had not been taken into a write yet, it never is.
   * @default Infinity
   */
  maxWaitMs?: number;
  /**
   * How long the first item of a batch waits for others before the write starts (Kafka's
   * `linger.ms`): fewer, bigger writes (one commit for several messages) for that much latency.
   * Only an idle writer lingers: items that queued during a write go at once. @default 0 (the next turn)
   */
  lingerMs?: number;
  /** Told of every write once it settled: the items it took, its duration in seconds, and whether it failed (metrics). */
  onWrite?: (items: number, seconds: number, failed: boolean) => void;
}

/**
 * Group commit: items submitted while a write is in flight are written together by the
 * next one, so the store sees one round trip per batch however busy the node is, and a
 * quiet node still writes each item at once (no timer). `write` must return one result
 * per item, in order. When a batch of several fails, each item is written again on its
 * own, so one bad item (say a message to a user deleted meanwhile) fails alone, unless the
 * store itself is unavailable (the whole batch fails once). Batched reads work the same way
 * (the handshake's user look-up); they pass `retryAlone: false`, since a read fails for the
 * whole batch or not at all. With `maxPending` and `maxWaitMs` the queue is bounded and so is
 * every wait: a store that stops answering gets `unavailable` answers, not a growing queue.
 */
export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private inFlight: Promise<void> | undefined;
  private readonly maxBatch: number;
  private readonly retryAlone: boolean;
  private readonly maxPending: number;
  private readonly maxWaitMs: number;
  private readonly lingerMs: number;
  private readonly onWrite: GroupCommitOptions['onWrite'];

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.retryAlone = options.retryAlone ?? true;
    this.maxPending = options.maxPending ?? Infinity;
    this.maxWaitMs = options.maxWaitMs ?? Infinity;
    this.lingerMs = options.lingerMs ?? 0;
    this.onWrite = options.onWrite;
  }

  /** Items waiting for a write (not those of the write in flight). */
  get pending(): number {
    return this.queue.length;
  }

  submit(item: T): Promise<R> {
    if (this.queue.length >= this.maxPending) {
      return Promise.reject(new ParleyError('unavailable', 'Too many writes are waiting for the database; try again'));
    }
    return new Promise<R>((resolve, reject) => {
      const pending: Pending<T, R> = { item, resolve, reject, settled: false, timer: undefined };
      if (Number.isFinite(this.maxWaitMs)) {
        pending.timer = setTimeout(() => {
          const queued = this.queue.indexOf(pending);
          if (queued >= 0) this.queue.splice(queued, 1);
          this.settle(pending, () => reject(new ParleyError('unavailable', 'The database did not answer in time; try again')));
        }, this.maxWaitMs);
      }
      this.queue.push(pending);
      // Start on the next turn (or after the linger) so items submitted meanwhile share the batch.
      this.inFlight ??= new Promise<void>((done) => (this.lingerMs > 0 ? setTimeout(done, this.lingerMs) : setImmediate(done))).then(() =>
        this.loop(),
      );
    });
  }

  /** Resolves once everything submitted so far is written (or rejected). */
  async drain(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private settle(pending: Pending<T, R>, answer: () => void): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    answer();
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.writeBatch(batch);
      } catch (err) {
        if (batch.length === 1 || !this.retryAlone || isUnavailable(err)) this.rejectAll(batch, err);
        else for (const p of batch) await this.writeBatch([p]).catch((e: unknown) => this.rejectAll([p], e));
      }
    }
    this.inFlight = undefined;
  }

  private rejectAll(batch: Pending<T, R>[], err: unknown): void {
    for (const p of batch) this.settle(p, () => p.reject(err));
  }

  private async writeBatch(batch: Pending<T, R>[]): Promise<void> {
    const started = performance.now();
    const report = (failed: boolean) => this.onWrite?.(batch.length, (performance.now() - started) / 1000, failed);
    let results: R[];
    try {
      results = await this.write(batch.map((p) => p.item));
    } catch (err) {
      report(true);
      throw err;
    }
    report(false);
    if (results.length !== batch.length) throw new Error(`write returned ${results.length} results for ${batch.length} items`);
    batch.forEach((p, i) => this.settle(p, () => p.resolve(results[i] as R)));
  }
}
