import fp from 'fastify-plugin';
import type { Config } from '@parley/config';
import { createRedisClient, type RedisClient } from '../pubsub/redis-client.ts';

/** The two connections a node keeps: commands and publishing, and subscriptions. */
export interface RedisClients {
  pub: RedisClient;
  sub: RedisClient;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Redis connections when REDIS_URL or REDIS_CLUSTER_NODES is set, otherwise null (single node). */
    redis: RedisClients | null;
  }
}

/**
 * Opens the publish and subscribe connections (to one Redis or a Redis Cluster) when
 * REDIS_URL or REDIS_CLUSTER_NODES is set. ioredis reconnects on
 * its own and queues commands meanwhile, so a Redis restart delays broadcasts instead of
 * failing them. Closed after Socket.IO and presence (onClose runs in reverse order).
 */
export const redisPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const open = (role: 'pub' | 'sub') => {
      const client = createRedisClient(config.redis, {
        lazyConnect: true,
        connectionName: `parley:${config.nodeId}:${role}`,
        // Commands wait for the reconnection instead of failing after 20 attempts.
        maxRetriesPerRequest: null,
      });
      if (!client) return null;
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
    const [pub, sub] = [open('pub'), open('sub')];
    if (!pub || !sub) {
      app.decorate('redis', null);
      return;
    }
    const clients: RedisClients = { pub, sub };
    await Promise.all([clients.pub.connect(), clients.sub.connect()]);
    app.decorate('redis', clients);
    app.addHook('onClose', async () => {
      await Promise.all([clients.pub.quit(), clients.sub.quit()]);
    });
  },
  { name: 'redis' },
);
