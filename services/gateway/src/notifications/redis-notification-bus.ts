import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { NotificationDelivery } from '@parley/db';
import type { NotificationSink } from './notifier.ts';

/** What travels on the bus: a discriminated union, so new message kinds can be added. */
export type BusMessage = { type: 'deliver'; batch: NotificationDelivery[] };

/** The channel every gateway subscribes to: `<REDIS_KEY_PREFIX>#notifications`. */
export function busChannel(keyPrefix: string): string {
  return `${keyPrefix}#notifications`;
}

/** Publishes deliveries for every gateway to emit to its own sockets (works from any process). */
export class RedisBusSink implements NotificationSink {
  constructor(
    private readonly pub: Redis,
    private readonly channel: string,
  ) {}

  async deliver(batch: NotificationDelivery[]): Promise<void> {
    if (batch.length === 0) return;
    const message: BusMessage = { type: 'deliver', batch };
    await this.pub.publish(this.channel, JSON.stringify(message));
  }
}

function parseBusMessage(raw: string): BusMessage | undefined {
  try {
    const message = JSON.parse(raw) as Partial<BusMessage>;
    return message.type === 'deliver' && Array.isArray(message.batch) ? (message as BusMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** Subscribe `sub` to the bus; resolves once subscribed, with an unsubscribe function. */
export async function subscribeBus(
  sub: Redis,
  channel: string,
  onDeliver: (batch: NotificationDelivery[]) => void,
  log: Logger,
): Promise<() => Promise<void>> {
  const listener = (from: string, raw: string) => {
    if (from !== channel) return;
    const message = parseBusMessage(raw);
    if (!message) return log.warn({ channel }, 'ignored a malformed notification bus message');
    onDeliver(message.batch);
  };
  sub.on('message', listener);
  await sub.subscribe(channel);
  return async () => {
    sub.off('message', listener);
    await sub.unsubscribe(channel);
  };
}
