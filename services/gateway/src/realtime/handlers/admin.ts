import { ParleyError } from '@parley/protocol';
import { eventHandlers } from '../handle.ts';
import { userRoom, type AdminSocket, type MainServer, type Namespaces, type RealtimeDeps } from '../types.ts';

/** announce / stats / listRooms / disconnectUser, for sockets that passed the admin role check. */
export function registerAdminHandlers(io: MainServer, socket: AdminSocket, deps: RealtimeDeps, namespaces: Namespaces): void {
  const { log } = deps;
  const on = eventHandlers(socket, log, '/admin');

  on('announce', {}, ({ text }) => {
    io.emit('announcement', { text, timestamp: new Date().toISOString() });
    log.info({ adminId: socket.data.user.id }, 'announcement sent');
  });

  on('stats', {}, () => deps.presence.stats());

  on('listRooms', {}, ({ after, limit }) => deps.presence.listRooms(after, limit));

  on('disconnectUser', {}, async ({ userId }) => {
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
