import type { RedisClient } from './redis-client.ts';
import type { Logger } from 'pino';
import type { z } from 'zod';

/**
 * A Redis Pub/Sub channel carrying JSON messages of one schema, shared by every gateway of a
 * cluster (and scripts without Socket.IO, such as the CLI, which only publish).
 */
export class JsonChannel<S extends z.ZodType> {
  constructor(
    readonly name: string,
    private readonly schema: S,
  ) {}

  async publish(pub: RedisClient, message: z.input<S>): Promise<void> {
    await pub.publish(this.name, JSON.stringify(message));
  }

  /**
   * Subscribe `sub` (a connection in subscriber mode); resolves once subscribed, with the
   * function that unsubscribes. A message that is not JSON or does not match the schema is
   * logged and dropped.
   */
  async subscribe(sub: RedisClient, onMessage: (message: z.output<S>) => void, log: Logger): Promise<() => Promise<void>> {
    const listener = (from: string, raw: string) => {
      if (from !== this.name) return;
      let parsed: ReturnType<S['safeParse']> | undefined;
      try {
        parsed = this.schema.safeParse(JSON.parse(raw)) as ReturnType<S['safeParse']>;
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) return log.warn({ channel: this.name }, 'ignored a malformed message on a cluster channel');
      onMessage(parsed.data as z.output<S>);
    };
    sub.on('message', listener);
    await sub.subscribe(this.name);
    return async () => {
      sub.off('message', listener);
      // While Redis is away the UNSUBSCRIBE would wait for it; nothing arrives meanwhile anyway.
      if (sub.status === 'ready') await sub.unsubscribe(this.name);
    };
  }
}
