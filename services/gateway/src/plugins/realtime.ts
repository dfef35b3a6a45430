import fp from 'fastify-plugin';
import { Server } from 'socket.io';
import type { Config } from '@parley/config';
import type { NewPrivateMessage, NewRoomMessage } from '@parley/db';
import { LocalClusterStats } from '../domain/cluster-stats.ts';
import { GroupCommit } from '../domain/group-commit.ts';
import { MemoryPresence } from '../domain/memory-presence.ts';
import type { Presence } from '../domain/presence.ts';
import { registerNamespaces, type Namespaces } from '../realtime/register.ts';
import type { MainServer, RealtimeDeps } from '../realtime/types.ts';

declare module 'fastify' {
  interface FastifyInstance {
    io: MainServer;
    namespaces: Namespaces;
    presence: Presence;
  }
}

/** Socket.IO on Fastify's HTTP server, with presence and the batched message writer. */
export const realtimePlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const io: MainServer = new Server(app.server, {
      cors: { origin: config.corsOrigin, credentials: true },
      maxHttpBufferSize: config.socket.maxHttpBufferSize,
      perMessageDeflate: false,
      serveClient: false,
    });
    const presence: Presence = new MemoryPresence();
    const messageWriter = new GroupCommit<NewRoomMessage | NewPrivateMessage, number>((batch) =>
      app.repos.messages.insertMany(batch),
    );
    const stats = new LocalClusterStats(config.nodeId, () => io.engine.clientsCount, () => presence.roomCount());
    const deps: RealtimeDeps = { config, log: app.log, repos: app.repos, presence, messageWriter, stats };
    const namespaces = registerNamespaces(io, deps, app.tokens.authenticate);

    app.decorate('io', io);
    app.decorate('namespaces', namespaces);
    app.decorate('presence', presence);

    app.addHook('preClose', async () => {
      // Close transports (not a server-side "disconnect"), so clients reconnect elsewhere.
      for (const socket of io.of('/').sockets.values()) socket.emit('serverShutdown', { nodeId: config.nodeId, reconnect: true });
      const all = [io.of('/'), namespaces.user, namespaces.notifications, namespaces.admin];
      for (const nsp of all) for (const socket of nsp.sockets.values()) socket.conn.close();
      await messageWriter.drain();
    });
    app.addHook('onClose', async () => {
      await new Promise<void>((resolve) => io.close(() => resolve()));
      await presence.close();
    });
  },
  { name: 'realtime', dependencies: ['db', 'auth'] },
);
