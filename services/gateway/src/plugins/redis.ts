import fp from 'fastify-plugin';
import { Cluster } from 'ioredis';
import type { Config } from '@parley/config';
import { createRedisClient, type RedisClient } from '../pubsub/redis-client.ts';

/** The two connections a node keeps: commands and publishing, and subscriptions. */
export interface RedisClients {
  pub: RedisClient;
  sub: RedisClient;
  /**
   * `listener` runs each time connection `role` is ready again after it was lost (what was
   * published or subscribed meanwhile may be missing).
   */
  onRestored(role: 'pub' | 'sub', listener: () => void): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Redis connections when REDIS_URL or REDIS_CLUSTER_NODES is set, otherwise null (single node). */
    redis: RedisClients | null;
  }
}

/**
 * The subscriber connection's commands ((un)subscriptions) wait in the offline queue while
 * Redis is away: a subscription must reach Redis once it is back (ioredis re-subscribes what it
 * had). The Socket.IO adapter fires them and forgets the promise; if the connection is closed
 * for good with some still queued, their rejection goes to `onLost` instead of going unhandled.
 */
function reportDroppedCommands(client: RedisClient, onLost: (err: unknown, command: string) => void): void {
  const send = client.sendCommand.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as { sendCommand: (...args: unknown[]) => unknown }).sendCommand = (...args: unknown[]) => {
    const sent = send(...args);
    sent.catch((err: unknown) => onLost(err, (args[0] as { name: string }).name));
    return sent;
  };
}

/**
 * Opens the command and subscriber connections (to one Redis, or to a Redis Cluster) when
 * REDIS_URL or REDIS_CLUSTER_NODES is set; both reconnect on their own. Every wait on the command
 * connection is bounded by REDIS_COMMAND_TIMEOUT_MS: a command fails at once while the
 * connection is down (no offline queue: nothing piles up in memory), after the bound when Redis
 * does not answer (a paused or overloaded server), and a connection that left a command
 * unanswered that long is dropped and opened again. The adapter's publishes, presence, rate
 * limits and readiness all go through it, so none of them waits longer. Closed after Socket.IO
 * and presence (onClose runs in reverse order).
 */
export const redisPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    // One warning per outage; "back" after any lost connection, also one that came back at the
    // first reconnection attempt without an error in between (a quick restart).
    const restored: Record<'pub' | 'sub', (() => void)[]> = { pub: [], sub: [] };
    const watch = (client: RedisClient, role: 'pub' | 'sub') => {
      let warned = false;
      let lost = false;
      client.on('error', (err: Error) => {
        if (!warned) app.log.warn({ err, role }, 'redis connection error');
        warned = true;
        lost = true;
      });
      client.on('close', () => {
        lost = true;
      });
      const back = () => {
        const wasLost = lost;
        warned = false;
        lost = false;
        if (!wasLost) return;
        app.log.info({ role }, 'redis connection back');
        for (const listener of restored[role]) listener();
      };
      client.on('ready', back);
      if (client instanceof Cluster) {
        // One shard lost (a master died, its replica takes over): what went through it may be
        // lost, though the cluster as a whole stayed up. Back once the slots are known again
        // (publisher) or every shard's subscriber is started again (subscriber).
        client.on('-node', () => {
          lost = true;
        });
        client.on(role === 'pub' ? 'refresh' : 'subscribersReady', back);
      }
      return client;
    };
    const name = (role: string) => `parley:${config.nodeId}:${role}`;
    const bound = config.redis.commandTimeoutMs;
    const pub = createRedisClient(config.redis, {
      lazyConnect: true,
      connectionName: name('pub'),
      enableOfflineQueue: false,
      commandTimeout: bound,
      socketTimeout: bound,
      // Commands in flight when the connection drops fail at once instead of being sent again.
      maxRetriesPerRequest: 0,
      // Commands issued in one turn of the event loop (the budgets, publishes and presence of
      // the messages read from many sockets at once) go to Redis in one write.
      enableAutoPipelining: true,
    });
    const sub = createRedisClient(config.redis, { lazyConnect: true, connectionName: name('sub'), maxRetriesPerRequest: null });
    if (!pub || !sub) {
      app.decorate('redis', null);
      return;
    }
    reportDroppedCommands(sub, (err, command) =>
      app.log.debug({ err, command }, 'redis subscriber: a queued command was dropped with its connection'),
    );
    const clients: RedisClients = {
      pub: watch(pub, 'pub'),
      sub: watch(sub, 'sub'),
      onRestored: (role, listener) => restored[role].push(listener),
    };
    await Promise.all([pub.connect(), sub.connect()]);
    app.decorate('redis', clients);
    app.addHook('onClose', async () => {
      // QUIT would wait for a Redis that is away: then the connection is just dropped.
      for (const client of [pub, sub]) {
        if (client.status === 'ready') await client.quit();
        else client.disconnect();
      }
    });
  },
  { name: 'redis' },
);
