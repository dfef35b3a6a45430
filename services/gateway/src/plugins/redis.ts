import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { Config } from '@parley/config';

/** The two connections a node keeps: commands and publishing, and subscriptions. */
export interface RedisClients {
  pub: Redis;
  sub: Redis;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Redis connections when REDIS_URL is set, otherwise null (single node). */
    redis: RedisClients | null;
  }
}

/**
 * Opens the publish and subscribe connections when REDIS_URL is set. ioredis reconnects on
 * its own and queues commands meanwhile, so a Redis restart delays broadcasts instead of
 * failing them. Closed after Socket.IO and presence (onClose runs in reverse order).
 */
export const redisPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    if (!config.redis.url) {
      app.decorate('redis', null);
      return;
    }
    const open = (role: 'pub' | 'sub') => {
      const client = new Redis(config.redis.url as string, {
        lazyConnect: true,
        connectionName: `parley:${config.nodeId}:${role}`,
        // Commands wait for the reconnection instead of failing after 20 attempts.
        maxRetriesPerRequest: null,
      });
      let down = false;
      client.on('error', (err: Error) => {
        if (!down) app.log.warn({ err, role }, 'redis connection error');
        down = true;
      });
      client.on('ready', () => {
        if (down) app.log.info({ role }, 'redis connection back');
        down = false;
      });
      return client;
    };
    const clients: RedisClients = { pub: open('pub'), sub: open('sub') };
    await Promise.all([clients.pub.connect(), clients.sub.connect()]);
    app.decorate('redis', clients);
    app.addHook('onClose', async () => {
      await Promise.all([clients.pub.quit(), clients.sub.quit()]);
    });
  },
  { name: 'redis' },
);
