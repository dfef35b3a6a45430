import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { Config } from '@parley/config';
import { FanoutService } from '../notifications/fanout.ts';
import { notificationBus, RedisBusSink } from '../notifications/redis-notification-bus.ts';
import { Notifier, type NotificationSink } from '../notifications/notifier.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** `notifier.notifyUser(userId, {type, message, data})`: persist, then reach every device. */
    notifier: Notifier;
    /** Post fan-out jobs (start after the response; sweeper for dead nodes' jobs). */
    fanout: FanoutService;
  }
}

/**
 * Notification delivery. Single node: straight to this node's sockets. With Redis: through
 * the bus `<REDIS_KEY_PREFIX>#notifications`, which every gateway (this one included)
 * subscribes to and delivers from, and which scripts without Socket.IO publish to as well.
 */
export const notificationsPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const hub = app.notificationHub;
    const log = app.log as unknown as Logger;
    let sink: NotificationSink;
    if (app.redis) {
      const bus = notificationBus(config.redis.keyPrefix);
      const unsubscribe = await bus.subscribe(app.redis.sub, ({ batch }) => hub.deliverLocal(batch), log);
      app.addHook('preClose', unsubscribe);
      sink = new RedisBusSink(app.redis.pub, bus);
    } else {
      sink = { deliver: async (batch) => hub.deliverLocal(batch) };
    }
    const metrics = app.metrics;
    const observer = metrics && {
      batch: (notified: number) => (metrics.fanoutNotifications.cell().value += notified),
      ended: (outcome: 'done' | 'failed') => metrics.fanoutJobs.cell(outcome).value++,
    };
    const fanout = new FanoutService(app.repos.fanout, sink, { nodeId: config.nodeId, ...config.fanout }, log, observer ?? undefined);
    if (metrics) metrics.probes.fanoutActive = () => fanout.active;
    fanout.startSweeper();
    app.decorate('notifier', new Notifier(app.repos.notifications, sink));
    app.decorate('fanout', fanout);
    // Before the database closes: let running fan-outs finish their batches.
    app.addHook('preClose', () => fanout.close());
  },
  { name: 'notifications', dependencies: ['db', 'realtime', 'redis'] },
);
