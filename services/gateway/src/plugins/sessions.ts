import { setTimeout as delay } from 'node:timers/promises';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { Config } from '@parley/config';
import { revocationChannel, type Revocation } from '../pubsub/revocations.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * `revoke({userId, version})` after a password change, a role change or a deletion: ends
     * the user's sockets whose token is below `version` (all when null) on every node.
     */
    revocations: { revoke(revocation: Revocation): Promise<void> };
  }
}

/** How long a revocation waits for Redis to take it before the request goes on without (it is still sent on reconnection). */
const PUBLISH_BOUND_MS = 1000;

/**
 * Revocations across the cluster. This node ends its own sockets at once; with Redis, every
 * node gets the revocation on `<REDIS_KEY_PREFIX>#revocations`. A node that lost its Redis
 * subscription may have missed some: when it is back, every local socket is checked against
 * its account.
 */
export const sessionsPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const tracker = app.sessionTracker;
    const log = app.log as unknown as Logger;
    const redis = app.redis;
    if (!redis) {
      app.decorate('revocations', { revoke: async (revocation: Revocation) => tracker.revoke(revocation) });
      return;
    }
    const channel = revocationChannel(config.redis.keyPrefix);
    app.addHook('preClose', await channel.subscribe(redis.sub, (revocation) => tracker.revoke(revocation), log));
    redis.onRestored('sub', () => {
      tracker
        .revalidate((userId) => app.userLookup.submit(userId))
        .then(() => log.info('sessions checked after the Redis subscription came back'))
        .catch((err: unknown) => log.warn({ err }, 'sessions could not be checked after Redis came back'));
    });
    app.decorate('revocations', {
      revoke: async (revocation: Revocation) => {
        tracker.revoke(revocation);
        // Never rejects (a late failure after the bound must not go unhandled).
        const sent = channel.publish(redis.pub, revocation).then(
          () => true,
          (err: unknown) => {
            log.warn({ err, userId: revocation.userId }, 'revocation could not be published');
            return false;
          },
        );
        if (!(await Promise.race([sent, delay(PUBLISH_BOUND_MS, false, { ref: false })]))) {
          log.warn(
            { userId: revocation.userId },
            'revocation not (yet) published: Redis is slow or down; other nodes check their sockets when they reconnect',
          );
        }
      },
    });
  },
  { name: 'sessions', dependencies: ['db', 'redis', 'realtime'] },
);
