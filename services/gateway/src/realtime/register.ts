import { NAMESPACES } from '@parley/protocol';
import { registerAdminHandlers } from './handlers/admin.ts';
import { registerChatHandlers } from './handlers/chat.ts';
import { registerRoomHandlers } from './handlers/rooms.ts';
import { eventHandlers } from './handle.ts';
import { authMiddleware, type ResolveUser } from './middleware/auth.ts';
import type { NotificationHub } from './notification-hub.ts';
import {
  userRoom,
  type AdminNamespace,
  type MainServer,
  type Namespaces,
  type NotificationsNamespace,
  type RealtimeDeps,
  type UserNamespace,
} from './types.ts';

/**
 * Wire every namespace: handshake auth first, then each event group's handlers. `hub` delivers
 * notifications to this node's '/notifications' sockets (backlog first).
 */
export function registerNamespaces(io: MainServer, deps: RealtimeDeps, resolveUser: ResolveUser, hub: NotificationHub): Namespaces {
  const auth = authMiddleware(resolveUser, deps.log);
  io.use(auth);
  io.on('connection', (socket) => {
    void socket.join(userRoom(socket.data.user.id));
    registerRoomHandlers(io, socket, deps);
    registerChatHandlers(io, socket, deps);
  });

  const user: UserNamespace = io.of(NAMESPACES.user);
  user.use(auth);
  user.on('connection', (socket) => {
    void socket.join(userRoom(socket.data.user.id));
    eventHandlers(socket, deps.log, '/user')('whoami', {}, () => ({ user: socket.data.user }));
  });

  const notifications: NotificationsNamespace = io.of(NAMESPACES.notifications);
  notifications.use(auth);
  notifications.on('connection', (socket) => {
    const userId = socket.data.user.id;
    // Join before reading the backlog: whatever arrives meanwhile is held, not missed.
    void socket.join(userRoom(userId));
    eventHandlers(socket, deps.log, '/notifications')('markRead', {}, async (payload) => ({
      updated:
        'all' in payload
          ? await deps.repos.notifications.markAllRead(userId)
          : await deps.repos.notifications.markRead(userId, payload.ids),
    }));
    hub
      .sendBacklog(socket, (afterId, limit) => deps.repos.notifications.unreadSince(userId, afterId, limit))
      .catch((err: unknown) => deps.log.error({ err, socketId: socket.id, userId }, 'notification backlog failed'));
  });

  const admin: AdminNamespace = io.of(NAMESPACES.admin);
  admin.use(authMiddleware(resolveUser, deps.log, 'admin'));
  const namespaces = { main: io, user, notifications, admin };
  admin.on('connection', (socket) => {
    void socket.join(userRoom(socket.data.user.id));
    registerAdminHandlers(io, socket, deps, namespaces);
  });

  return namespaces;
}
