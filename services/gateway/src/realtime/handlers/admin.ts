import { z } from 'zod';
import { announceSchema, disconnectUserSchema, ParleyError } from '@parley/protocol';
import { handle } from '../handle.ts';
import { userRoom, type AdminSocket, type MainServer, type RealtimeDeps } from '../types.ts';
import type { Namespaces } from '../register.ts';

/** announce / stats / disconnectUser, for sockets that passed the admin role check. */
export function registerAdminHandlers(
  io: MainServer,
  socket: AdminSocket,
  deps: RealtimeDeps,
  namespaces: Omit<Namespaces, 'notificationHub'>,
): void {
  const { log } = deps;

  handle(socket, log, 'announce', { schema: announceSchema }, ({ text }) => {
    io.emit('announcement', { text, timestamp: new Date().toISOString() });
    log.info({ adminId: socket.data.user.id }, 'announcement sent');
  });

  handle(socket, log, 'stats', { schema: z.unknown() }, () => deps.presence.stats());

  handle(socket, log, 'disconnectUser', { schema: disconnectUserSchema }, async ({ userId }) => {
    // An id with no account is most likely a typo: say so rather than "done".
    if ((await deps.userLookup.submit(userId)) === null) throw new ParleyError('not_found', `No user ${userId}`);
    // Through each namespace's adapter, so the user's sockets on every node go.
    for (const nsp of [namespaces.main, namespaces.user, namespaces.notifications, namespaces.admin]) {
      nsp.in(userRoom(userId)).disconnectSockets(true);
    }
    log.info({ adminId: socket.data.user.id, userId }, 'user disconnected by an admin');
    return { userId };
  });
}
