/**
 * Waits of a chaos run: on conditions over what the clients saw (event-driven: every event
 * re-checks the pending waits), and the timeline's own timers.
 */

/** Conditions re-checked whenever something they depend on happened (`poke`). */
export class Conditions {
  private readonly checks = new Set<() => void>();

  /** Something happened (a message, an ack, a resync): re-check every pending wait. */
  poke(): void {
    for (const check of [...this.checks]) check();
  }

  /**
   * Resolves true once `holds()` (checked now and at every poke), or false after `timeoutMs`:
   * the caller records a recovery that did not happen instead of throwing.
   */
  until(holds: () => boolean, timeoutMs: number): Promise<boolean> {
    if (holds()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        this.checks.delete(check);
        resolve(result);
      };
      const check = () => {
        if (holds()) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.checks.add(check);
    });
  }
}

/**
 * The timeline's waits: how long a phase of steady chat or a fault lasts. Not a
 * synchronisation: nothing is awaited through them.
 */
export const holdFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The timers that space each client's sends (the load's rate); `stop()` cuts them all short. */
export class Pacer {
  stopped = false;
  private readonly sleeping = new Map<NodeJS.Timeout, () => void>();

  /** Wait `ms` before the next send, or less if the chat stops meanwhile. */
  gap(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping.delete(timer);
        resolve();
      }, ms);
      this.sleeping.set(timer, resolve);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const [timer, resolve] of this.sleeping) {
      clearTimeout(timer);
      resolve();
    }
    this.sleeping.clear();
  }
}

/** The longest stretch of [from, to] without any of `times` (sorted ascending) in it. */
export function longestGap(times: number[], from: number, to: number): number {
  let last = from;
  let gap = 0;
  for (const t of times) {
    if (t < from) continue;
    if (t > to) break;
    gap = Math.max(gap, t - last);
    last = t;
  }
  return Math.max(gap, to - last);
}
