interface Pending<T, R> {
  item: T;
  resolve: (result: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: items submitted while a write is in flight are written together by the
 * next one, so the store sees one round trip per batch however busy the node is, and a
 * quiet node still writes each item at once (no timer). `write` must return one result
 * per item, in order. When a batch of several fails, each item is written again on its
 * own, so one bad item (say a message to a user deleted meanwhile) fails alone. Batched
 * reads work the same way (the handshake's user look-up); they pass `retryAlone = false`,
 * since a read fails for the whole batch or not at all.
 */
export class GroupCommit<T, R> {
  private queue: Pending<T, R>[] = [];
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly maxBatch = 1000,
    /** After a failed batch of several, write each item again on its own. */
    private readonly retryAlone = true,
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      // Start on the next turn so items submitted in this one share the batch.
      this.inFlight ??= new Promise<void>((done) => setImmediate(done)).then(() => this.loop());
    });
  }

  /** Resolves once everything submitted so far is written (or rejected). */
  async drain(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async loop(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        await this.writeBatch(batch);
      } catch (err) {
        if (batch.length === 1 || !this.retryAlone) for (const p of batch) p.reject(err);
        else for (const p of batch) await this.writeBatch([p]).catch(p.reject);
      }
    }
    this.inFlight = undefined;
  }

  private async writeBatch(batch: Pending<T, R>[]): Promise<void> {
    const results = await this.write(batch.map((p) => p.item));
    if (results.length !== batch.length) throw new Error(`write returned ${results.length} results for ${batch.length} items`);
    batch.forEach((p, i) => p.resolve(results[i] as R));
  }
}
