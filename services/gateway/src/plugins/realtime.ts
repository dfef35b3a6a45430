import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createAdapter, createShardedAdapter } from '@socket.io/redis-adapter';
import fp from 'fastify-plugin';
import { Server, type ServerOptions } from 'socket.io';
import type { Config } from '@parley/config';
import { errorBody } from '@parley/protocol';
import type { NewPrivateMessage, NewRoomMessage, StoredMessage } from '@parley/db';
import { NAMESPACES, type NamespaceName } from '@parley/protocol';
import { rawErrorResponse } from '../domain/errors.ts';
import { GroupCommit } from '../domain/group-commit.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { countedPresence } from '../metrics/presence-metrics.ts';
import { countAdapterTraffic } from '../metrics/redis-metrics.ts';
import { instrumentNamespace, probeNamespaces } from '../metrics/socket-metrics.ts';
import { MemoryPresence } from '../presence/memory-presence.ts';
import type { Presence } from '../presence/presence.ts';
import { RedisPresence } from '../presence/redis-presence.ts';
import { RoomAnnouncer } from '../realtime/announcements.ts';
import { allAnswered } from '../realtime/handle.ts';
import { NotificationHub } from '../realtime/notification-hub.ts';
import { registerNamespaces } from '../realtime/register.ts';
import { SessionTracker } from '../realtime/sessions.ts';
import { slimRequest } from '../realtime/slim-request.ts';
import type { MainServer, Namespaces, RealtimeDeps } from '../realtime/types.ts';
import type { RedisClients } from './redis.ts';

declare module 'fastify' {
  interface FastifyInstance {
    io: MainServer;
    namespaces: Namespaces;
    presence: Presence;
    /** Delivers notifications to this node's '/notifications' sockets (backlog first). */
    notificationHub: NotificationHub;
    /** Ends this node's sockets at their token's expiry or revocation. */
    sessionTracker: SessionTracker;
  }
}

/** The Socket.IO adapter: Redis (sharded or classic Pub/Sub) in a cluster, in-memory alone. */
function adapterFor(config: Config, redis: RedisClients | null): ServerOptions['adapter'] | undefined {
  if (!redis) return undefined;
  const prefix = adapterChannelPrefix(config);
  return config.redis.adapter === 'sharded'
    ? createShardedAdapter(redis.pub, redis.sub, { channelPrefix: prefix, subscriptionMode: 'dynamic' })
    : createAdapter(redis.pub, redis.sub, { key: prefix });
}

/** Metrics of every namespace, the Engine.IO connections and the Redis adapter's traffic; before any other listener. */
function instrument(io: MainServer, metrics: Metrics, redis: RedisClients | null, config: Config): void {
  const namespaces = new Map(Object.values(NAMESPACES).map((name: NamespaceName) => [name, io.of(name)]));
  for (const [name, nsp] of namespaces) instrumentNamespace(nsp, name, metrics);
  probeNamespaces(metrics, namespaces);
  metrics.probes.clients = () => io.engine.clientsCount;
  if (redis) countAdapterTraffic(redis.pub, redis.sub, adapterChannelPrefix(config), metrics);
}

/** Prefix of every channel of the Socket.IO Redis adapter (both kinds). */
function adapterChannelPrefix(config: Config): string {
  return `${config.redis.keyPrefix}:sio`;
}

/** Socket.IO on Fastify's HTTP server, with presence and the batched message writer. */
export const realtimePlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const adapter = adapterFor(config, app.redis);
    const io: MainServer = new Server(app.server, {
      cors: { origin: config.corsOrigin, credentials: true },
      maxHttpBufferSize: config.socket.maxHttpBufferSize,
      perMessageDeflate: false,
      serveClient: false,
      ...(adapter ? { adapter } : {}),
    });
    const metrics = app.metrics;
    if (metrics) instrument(io, metrics, app.redis, config);
    const roomLimits = { usersMax: config.rooms.usersMax, coalesceAbove: config.rooms.coalesceAbove };
    const storedPresence: Presence = app.redis
      ? new RedisPresence(app.redis.pub, {
          nodeId: config.nodeId,
          keyPrefix: config.redis.keyPrefix,
          ttlSec: config.presenceTtlSec,
          log: app.log,
          ...roomLimits,
        })
      : new MemoryPresence(config.nodeId, roomLimits);
    const presence = metrics ? countedPresence(storedPresence, metrics) : storedPresence;
    const announcer = new RoomAnnouncer(io, presence, config.rooms.coalesceMs, app.log);
    const messageWriter: GroupCommit<NewRoomMessage | NewPrivateMessage, StoredMessage> = new GroupCommit(
      (batch) => app.repos.messages.insertMany(batch),
      { ...config.writeQueue, lingerMs: config.messageLingerMs, onWrite: metrics?.batching('messages', () => messageWriter.pending) },
    );
    const deps: RealtimeDeps = {
      config,
      log: app.log,
      repos: app.repos,
      userLookup: app.userLookup,
      presence,
      announcer,
      messageWriter,
      userBudget: app.userBudget,
    };
    const notificationHub = new NotificationHub(io.of(NAMESPACES.notifications));
    const sessionTracker = new SessionTracker(io, app.log);
    const namespaces = registerNamespaces(
      io,
      deps,
      {
        resolve: (token) => app.tokens.resolve(token),
        tracker: sessionTracker,
        ...(metrics ? { refused: (code: string) => metrics.refused('handshake', code) } : {}),
      },
      notificationHub,
    );

    const main = io.of('/');
    // Keep only what handshakes read of each connection's first request; count connections for
    // 'stats' (Engine.IO connections: one per client, whatever its namespaces).
    io.engine.on('connection', (conn: { request: IncomingMessage; once(event: 'close', listener: () => void): void }) => {
      conn.request = slimRequest(conn.request);
      presence.setConnections(io.engine.clientsCount);
      conn.once('close', () => presence.setConnections(io.engine.clientsCount));
    });
    presence.onEviction((e) => {
      app.log.info({ room: e.room, left: e.left, coalesced: e.coalesced }, 'presence: evicted members of a dead node');
      announcer.evicted(e);
    });
    await presence.start();
    if (app.redis) {
      // Broadcasts across nodes go through Redis: while a connection was away some may be lost
      // (stored, acked, never relayed). This node's subscriber back: its own clients may have
      // missed some. Its publisher back: every node's clients may have missed what it stored.
      app.redis.onRestored('sub', () => main.local.emit('resync', { reason: 'redis' }));
      app.redis.onRestored('pub', () => main.emit('resync', { reason: 'redis' }));
    }

    // While shutting down, new Engine.IO handshakes (no `sid` yet) get HTTP 503 `unavailable`
    // in the protocol's error shape; the client's transport fails and it reconnects elsewhere.
    let shuttingDown = false;
    io.engine.use((req: IncomingMessage, res: ServerResponse | { socket: Duplex }, next: (err?: Error) => void) => {
      if (!shuttingDown || new URL(req.url ?? '/', 'http://x').searchParams.has('sid')) return next();
      const body = errorBody('unavailable', 'This node is shutting down');
      if (res instanceof ServerResponse) {
        res.writeHead(503, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ error: body }));
      } else {
        // A WebSocket upgrade: no ServerResponse, answer on the raw socket.
        res.socket.end(rawErrorResponse(503, body));
      }
      next(new Error('shutting down'));
    });

    app.decorate('io', io);
    app.decorate('namespaces', namespaces);
    app.decorate('presence', presence);
    app.decorate('notificationHub', notificationHub);
    app.decorate('sessionTracker', sessionTracker);

    // Graceful shutdown, in order: refuse new connections, tell clients to go elsewhere, answer
    // every event received so far and flush buffered writes first (their acks still reach the
    // clients; each waits at most WRITE_WAIT_MS), then withdraw this node's presence
    // (announcing who left; with Redis away it fails within REDIS_COMMAND_TIMEOUT_MS and the
    // reaper removes it later), close transports, flush what came in meanwhile.
    app.addHook('preClose', async () => {
      shuttingDown = true;
      main.local.emit('serverShutdown', { nodeId: config.nodeId, reconnect: true });
      const all = [main, namespaces.user, namespaces.notifications, namespaces.admin];
      await Promise.all(all.flatMap((nsp) => [...nsp.sockets.values()].map(allAnswered)));
      await messageWriter.drain();
      app.log.info('shutdown: buffered writes flushed');
      await presence.withdraw().then(
        (evictions) => {
          for (const e of evictions) announcer.evicted(e);
        },
        (err: unknown) => app.log.warn({ err }, 'shutdown: presence not withdrawn (the reaper of another node removes it)'),
      );
      // Closing the transport (not a server-side "disconnect") lets clients reconnect elsewhere.
      for (const nsp of all) for (const socket of nsp.sockets.values()) socket.conn.close();
      await messageWriter.drain();
    });
    app.addHook('onClose', async () => {
      // Resolves once the HTTP server is closed too (io.close's own promise comes earlier).
      await new Promise<void>((resolve) => {
        void io.close(() => resolve());
      });
      announcer.close();
      await presence.close();
    });
  },
  { name: 'realtime', dependencies: ['metrics', 'db', 'auth', 'redis', 'limits'] },
);
