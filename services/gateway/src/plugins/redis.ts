import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { Config } from '@parley/config';

declare module 'fastify' {
  interface FastifyInstance {
    /** Publisher and subscriber connections; null without REDIS_URL (single node). */
    redis: { pub: Redis; sub: Redis } | null;
  }
}

/** Opens the node's two Redis connections when REDIS_URL is set; closes them last. */
export const redisPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    if (!config.redis.url) {
      app.decorate('redis', null);
      return;
    }
    const pub = new Redis(config.redis.url, { lazyConnect: true });
    const sub = pub.duplicate();
    for (const client of [pub, sub]) client.on('error', (err) => app.log.warn({ err }, 'redis connection error'));
    await Promise.all([pub.connect(), sub.connect()]);
    app.decorate('redis', { pub, sub });
    app.addHook('onClose', async () => {
      await Promise.all([pub.quit(), sub.quit()]);
    });
  },
  { name: 'redis' },
);
