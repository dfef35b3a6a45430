import { markReadSchema, NAMESPACES } from '@parley/protocol';
import { z } from 'zod';
import { registerAdminHandlers } from './handlers/admin.ts';
import { registerChatHandlers } from './handlers/chat.ts';
import { registerRoomHandlers } from './handlers/rooms.ts';
import { handle } from './handle.ts';
import { authMiddleware, type Authenticate } from './middleware/auth.ts';
import { NotificationHub } from './notification-hub.ts';
import { userRoom, type AdminNamespace, type MainServer, type NotificationsNamespace, type RealtimeDeps, type UserNamespace } from './types.ts';

export interface Namespaces {
  main: MainServer;
  user: UserNamespace;
  notifications: NotificationsNamespace;
  admin: AdminNamespace;
  /** Delivers notifications to this node's '/notifications' sockets (backlog first). */
  notificationHub: NotificationHub;
}

/** Wire every namespace: handshake auth first, then each event group's handlers. */
export function registerNamespaces(io: MainServer, deps: RealtimeDeps, authenticate: Authenticate): Namespaces {
  const auth = authMiddleware(authenticate, deps.log);
  io.use(auth);
  io.on('connection', (socket) => {
    socket.join(userRoom(socket.data.user.id));
    registerRoomHandlers(io, socket, deps);
    registerChatHandlers(io, socket, deps);
  });

  const user: UserNamespace = io.of(NAMESPACES.user);
  user.use(auth);
  user.on('connection', (socket) => {
    socket.join(userRoom(socket.data.user.id));
    handle(socket, deps.log, 'whoami', { schema: z.unknown() }, () => ({ user: socket.data.user }));
  });

  const notifications: NotificationsNamespace = io.of(NAMESPACES.notifications);
  notifications.use(auth);
  const notificationHub = new NotificationHub(notifications);
  notifications.on('connection', (socket) => {
    const userId = socket.data.user.id;
    // Join before reading the backlog: whatever arrives meanwhile is held, not missed.
    socket.join(userRoom(userId));
    handle(socket, deps.log, 'markRead', { schema: markReadSchema }, async (payload) => ({
      updated:
        'all' in payload
          ? await deps.repos.notifications.markAllRead(userId)
          : await deps.repos.notifications.markRead(userId, payload.ids),
    }));
    notificationHub
      .sendBacklog(socket, (afterId, limit) => deps.repos.notifications.unreadSince(userId, afterId, limit))
      .catch((err: unknown) => deps.log.error({ err, socketId: socket.id, userId }, 'notification backlog failed'));
  });

  const admin: AdminNamespace = io.of(NAMESPACES.admin);
  admin.use(authMiddleware(authenticate, deps.log, 'admin'));
  const namespaces = { main: io, user, notifications, admin };
  admin.on('connection', (socket) => {
    socket.join(userRoom(socket.data.user.id));
    registerAdminHandlers(io, socket, deps, namespaces);
  });

  return { ...namespaces, notificationHub };
}
