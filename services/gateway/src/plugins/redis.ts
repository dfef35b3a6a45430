import fp from 'fastify-plugin';
import { Redis, type RedisOptions } from 'ioredis';
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

type Command = Parameters<Redis['sendCommand']>[0];

/**
 * The subscriber connection. Its commands ((un)subscriptions) wait in the offline queue while
 * Redis is away: a subscription must reach Redis once it is back (ioredis re-subscribes what it
 * had). The Socket.IO adapter fires them and forgets the promise; if the connection is closed
 * for good with some still queued, their rejection is logged here instead of going unhandled.
 */
class SubscriberConnection extends Redis {
  constructor(
    url: string,
    options: RedisOptions,
    private readonly onLost: (err: unknown, command: string) => void,
  ) {
    super(url, options);
  }

  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    const sent = super.sendCommand(command, stream) as Promise<unknown>;
    sent.catch((err: unknown) => this.onLost(err, command.name));
    return sent;
  }
}

/**
 * Opens the command and subscriber connections when REDIS_URL is set; both reconnect on their
 * own. Every wait on the command connection is bounded by REDIS_COMMAND_TIMEOUT_MS: a command
 * fails at once while the connection is down (no offline queue: nothing piles up in memory),
 * after the bound when Redis does not answer (a paused or overloaded server), and a connection
 * that left a command unanswered that long is dropped and opened again. The adapter's publishes,
 * presence, rate limits and readiness all go through it, so none of them waits longer. Closed
 * after Socket.IO and presence (onClose runs in reverse order).
 */
export const redisPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const url = config.redis.url;
    if (!url) {
      app.decorate('redis', null);
      return;
    }
    const watch = (client: Redis, role: 'pub' | 'sub') => {
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
    const name = (role: string) => `parley:${config.nodeId}:${role}`;
    const bound = config.redis.commandTimeoutMs;
    const pub = new Redis(url, {
      lazyConnect: true,
      connectionName: name('pub'),
      enableOfflineQueue: false,
      commandTimeout: bound,
      socketTimeout: bound,
      // Commands in flight when the connection drops fail at once instead of being sent again.
      maxRetriesPerRequest: 0,
    });
    const sub = new SubscriberConnection(
      url,
      { lazyConnect: true, connectionName: name('sub'), maxRetriesPerRequest: null },
      (err, command) => app.log.debug({ err, command }, 'redis subscriber: a queued command was dropped with its connection'),
    );
    const clients: RedisClients = { pub: watch(pub, 'pub'), sub: watch(sub, 'sub') };
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
