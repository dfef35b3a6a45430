import type { Logger } from 'pino';
import type { FanoutRepository } from '@parley/db';
import type { NotificationSink } from './notifier.ts';

export interface FanoutOptions {
  nodeId: string;
  /** Followers per batch. @default 2000 (FANOUT_BATCH_SIZE) */
  batchSize: number;
  /** Claims older than this are taken over. @default 30000 (FANOUT_STALE_MS) */
  staleMs: number;
  /** Sweep period. @default 10000 (FANOUT_SWEEP_MS) */
  sweepMs: number;
}

/** Told what fan-out does (metrics). */
export interface FanoutObserver {
  /** A batch of `notified` notifications was created and handed to delivery. */
  batch(notified: number): void;
  /** A job ended: done, or failed (the sweeper retries it). */
  ended(outcome: 'done' | 'failed'): void;
}

/** Stale jobs claimed per sweep. */
const SWEEP_CLAIM_LIMIT = 10;

/**
 * Runs fan-out jobs: batch after batch of notifications created by set-based SQL and
 * handed to the sink, until the job is done. A sweeper takes over jobs whose node died.
 */
export class FanoutService {
  private readonly running = new Map<number, Promise<void>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly jobs: FanoutRepository,
    private readonly sink: NotificationSink,
    private readonly options: FanoutOptions,
    private readonly log: Logger,
    private readonly observer?: FanoutObserver,
  ) {}

  /** Jobs this node holds and has not finished (started, waiting for their turn, or running). */
  get active(): number {
    return this.running.size;
  }

  /**
   * Process job `jobId` (claimed by this node) in the background, from the next turn of the
   * event loop (a response being sent in this turn goes out first).
   */
  start(jobId: number): void {
    if (this.running.has(jobId)) return;
    const run = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.run(jobId))
      .then(
        () => this.observer?.ended('done'),
        (err: unknown) => {
          this.observer?.ended('failed');
          this.log.error({ err, jobId }, 'fan-out failed; the sweeper will retry it');
        },
      )
      .finally(() => this.running.delete(jobId));
    this.running.set(jobId, run);
  }

  /** Resolves when every job started so far has finished (or failed). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  /** Claim and start jobs left behind by dead nodes. */
  async sweep(): Promise<number[]> {
    const ids = await this.jobs.claimStale(this.options.nodeId, this.options.staleMs, SWEEP_CLAIM_LIMIT);
    if (ids.length > 0) this.log.info({ jobIds: ids }, 'took over stale fan-out jobs');
    for (const id of ids) this.start(id);
    return ids;
  }

  startSweeper(): void {
    this.timer = setInterval(() => {
      this.sweep().catch((err: unknown) => this.log.error({ err }, 'fan-out sweep failed'));
    }, this.options.sweepMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.idle();
  }

  private async run(jobId: number): Promise<void> {
    let notified = 0;
    for (;;) {
      const batch = await this.jobs.nextBatch(jobId, this.options.nodeId, this.options.batchSize);
      if (batch.length === 0) break;
      notified += batch.length;
      await this.sink.deliver(batch);
      this.observer?.batch(batch.length);
    }
    await this.jobs.finish(jobId, this.options.nodeId);
    this.log.debug({ jobId, notified }, 'fan-out done');
  }
}
