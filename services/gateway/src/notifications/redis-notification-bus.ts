import type { RedisClient } from '../pubsub/redis-client.ts';
import { z } from 'zod';
import type { NotificationDelivery } from '@parley/db';
import { JsonChannel } from '../pubsub/json-channel.ts';
import type { NotificationSink } from './notifier.ts';

/** What travels on the bus: a batch of stored notifications to emit. */
const busMessage = z.object({ type: z.literal('deliver'), batch: z.array(z.custom<NotificationDelivery>()) });

/** The channel every gateway subscribes to: `<REDIS_KEY_PREFIX>#notifications`. */
export function notificationBus(keyPrefix: string) {
  return new JsonChannel(`${keyPrefix}#notifications`, busMessage);
}

/** Publishes deliveries for every gateway to emit to its own sockets (works from any process). */
export class RedisBusSink implements NotificationSink {
  constructor(
    private readonly pub: RedisClient,
    private readonly bus: ReturnType<typeof notificationBus>,
  ) {}

  async deliver(batch: NotificationDelivery[]): Promise<void> {
    if (batch.length === 0) return;
    await this.bus.publish(this.pub, { type: 'deliver', batch });
  }
}
