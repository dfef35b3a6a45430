/**
 * One stream of positioned messages (a room, or the user's private messages) handed to the
 * application in position order, each once. Positions are gapless and commit in order on the
 * server, so a message at n+2 after n means n+1 is late or lost: later ones are held until it
 * comes; when it has not come within `gapWaitMs`, `onGap` asks the server for everything after
 * the last position delivered, which is exact (n+1 is committed, since n+2 is). There is no
 * window in which in-order messages wait: only those behind a gap do.
 *
 * Pure logic (timers aside): the client feeds it; packages/client/test/ordered-stream.test.ts
 * drives it with fakes.
 */
export interface OrderedStreamOptions<M> {
  positionOf: (message: M) => number;
  deliver: (message: M) => void;
  /**
   * A gap lasted `gapWaitMs` (up to 1.5 times that, at random: every member of a room sees the
   * same gap at once): fetch from `position` (the last delivered), `offer` what comes back and
   * `settle`. One at a time; if the gap is still there once it is done (or failed), it waits again.
   */
  onGap: () => Promise<void>;
  gapWaitMs: number;
}

export class OrderedStream<M> {
  /** Last position delivered (or passed over); undefined until the first `settle`. */
  private last: number | undefined;
  /** Highest position known to exist (`expect`): below it and above `last` is a gap. */
  private known = 0;
  /** Positions that arrived ahead of a gap (or before `start`); undefined: pass over without delivering. */
  private readonly held = new Map<number, M | undefined>();
  private gapTimer: ReturnType<typeof setTimeout> | undefined;
  /** A gap catch-up is in flight: no second one until it is done. */
  private catchingUp = false;
  private closed = false;

  constructor(private readonly options: OrderedStreamOptions<M>) {}

  /** Last position delivered, where a catch-up resumes; undefined before `start`. */
  get position(): number | undefined {
    return this.last;
  }

  /**
   * Everything up to `position` that exists has been offered (a complete catch-up: the server
   * read `position` before the pages): positions still missing up to there are gone (their
   * author deleted the account) and are passed over. Before the first settle, this is where the
   * stream starts: what was sent before the client followed it is history, not delivered.
   */
  settle(position: number): void {
    if (this.closed) return;
    this.last ??= position;
    this.advance(position);
  }

  /** A message, live or from a catch-up: delivered in order, once. */
  offer(message: M): void {
    this.hold(this.options.positionOf(message), message);
  }

  /** A message at `position` exists (the server said so): if it has not come, that is a gap. */
  expect(position: number): void {
    if (this.closed || !Number.isSafeInteger(position)) return;
    this.known = Math.max(this.known, position);
    this.advance(undefined);
  }

  /** A position to pass over without delivering it (a message this client sent itself). */
  skip(position: number): void {
    this.hold(position, undefined);
  }

  /** Stop: nothing more is delivered (a catch-up still in flight included), no timer is left. */
  close(): void {
    this.closed = true;
    this.held.clear();
    this.stopWaiting();
  }

  private stopWaiting(): void {
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
  }

  private hold(position: number, message: M | undefined): void {
    // Not a position (a node from before positions): it cannot be ordered, and is not delivered.
    if (this.closed || !Number.isSafeInteger(position)) return;
    if ((this.last !== undefined && position <= this.last) || this.held.has(position)) return;
    this.held.set(position, message);
    this.advance(undefined);
  }

  /** Deliver the held positions that follow the last one, and pass over any missing up to `through`. */
  private advance(through: number | undefined): void {
    if (this.last === undefined || this.closed) return;
    let last = this.last;
    for (;;) {
      const next = last + 1;
      if (!this.held.has(next) && (through === undefined || next > through)) break;
      const message = this.held.get(next);
      this.held.delete(next);
      this.last = last = next;
      if (message !== undefined) this.options.deliver(message);
    }
    for (const position of this.held.keys()) if (position <= last) this.held.delete(position);
    if (this.held.size === 0 && this.known <= last) {
      this.stopWaiting();
    } else if (!this.catchingUp) {
      this.gapTimer ??= setTimeout(
        () => {
          this.gapTimer = undefined;
          this.catchingUp = true;
          void this.options
            .onGap()
            .catch(() => undefined)
            .finally(() => {
              this.catchingUp = false;
              this.advance(undefined);
            });
        },
        this.options.gapWaitMs * (1 + Math.random() / 2),
      );
    }
  }
}
