/** One JSON log line of a node (pino). */
export type LogEntry = Record<string, unknown>;

/** How long `LogTail.next` waits by default: the thing logged is a reaction, not a start-up. */
const LOG_TIMEOUT_MS = 10_000;

/**
 * The log lines a node printed, and a way to await the next one that matches. Shared by node
 * processes (their stdout) and in-process nodes (their pino destination).
 */
export class LogTail {
  /** Every line so far. */
  readonly entries: LogEntry[] = [];
  private readonly listeners = new Set<(entry: LogEntry) => void>();
  private endedWith: string | undefined;

  constructor(private readonly name: string) {}

  push(entry: LogEntry): void {
    this.entries.push(entry);
    for (const listener of this.listeners) listener(entry);
  }

  /** No more lines will come (the process exited): pending waits fail at once with `reason`. */
  end(reason: string): void {
    this.endedWith = reason;
    for (const listener of this.listeners) listener({});
  }

  /**
   * The next line (logged from now on) that matches `predicate`; rejects after `timeoutMs`
   * with a message naming `what`, or as soon as the log ends.
   */
  next(what: string, predicate: (entry: LogEntry) => boolean, timeoutMs = LOG_TIMEOUT_MS): Promise<LogEntry> {
    const timeout = new Error(`${this.name}: no log line "${what}" within ${timeoutMs} ms`);
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      const timer = setTimeout(() => {
        done();
        reject(timeout);
      }, timeoutMs);
      const listener = (entry: LogEntry) => {
        if (this.endedWith !== undefined) {
          done();
          reject(new Error(`${this.name} ${this.endedWith} before logging "${what}"`));
        } else if (predicate(entry)) {
          done();
          resolve(entry);
        }
      };
      if (this.endedWith !== undefined) return listener({});
      this.listeners.add(listener);
    });
  }
}
