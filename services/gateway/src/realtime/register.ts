import { NAMESPACES } from '@parley/protocol';
import { z } from 'zod';
import { registerChatHandlers } from './handlers/chat.ts';
import { registerRoomHandlers } from './handlers/rooms.ts';
import { handle } from './handle.ts';
import { authMiddleware, type Authenticate } from './middleware/auth.ts';
import { userRoom, type AdminNamespace, type MainServer, type NotificationsNamespace, type RealtimeDeps, type UserNamespace } from './types.ts';

export interface Namespaces {
  main: MainServer;
  user: UserNamespace;
  notifications: NotificationsNamespace;
  admin: AdminNamespace;
}

/** Wire every namespace: handshake auth first, then each event group's handlers. */
export function registerNamespaces(io: MainServer, deps: RealtimeDeps, authenticate: Authenticate): Namespaces {
  const auth = authMiddleware(authenticate);
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
  notifications.on('connection', (socket) => {
    socket.join(userRoom(socket.data.user.id));
  });

  const admin: AdminNamespace = io.of(NAMESPACES.admin);
  admin.use(authMiddleware(authenticate, 'admin'));

  return { main: io, user, notifications, admin };
}
