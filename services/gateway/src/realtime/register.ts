import { NAMESPACES, type NamespaceName, type Role } from '@parley/protocol';
import { registerAdminHandlers } from './handlers/admin.ts';
import { registerChatHandlers } from './handlers/chat.ts';
import { registerRoomHandlers } from './handlers/rooms.ts';
import { socketBucket } from './buckets.ts';
import { eventHandlers } from './handle.ts';
import { authMiddleware, reportRefusals, type ResolveSession } from './middleware/auth.ts';
import type { NotificationHub } from './notification-hub.ts';
import type { SessionTracker } from './sessions.ts';
import {
  userRoom,
  type AdminNamespace,
  type AnySocket,
  type MainServer,
  type Namespaces,
  type NotificationsNamespace,
  type RealtimeDeps,
  type UserNamespace,
} from './types.ts';

/** What every namespace's connections need to authenticate and follow their token. */
export interface SessionDeps {
  resolve: ResolveSession;
  tracker: SessionTracker;
  /** Told the code of every refused handshake (metrics). */
  refused?: (code: string) => void;
}

/**
 * Every namespace, on connection: join the user's room (notifications, revocations and
 * disconnectUser find the user's sockets there), follow the token's expiry, and answer
 * 'refreshToken'.
 */
function startSession(socket: AnySocket, deps: RealtimeDeps, sessions: SessionDeps, namespace: NamespaceName): void {
  void socket.join(userRoom(socket.data.user.id));
  sessions.tracker.follow(socket);
  // Every namespace has 'refreshToken' with the same schemas; '/' stands for them all here.
  // Charged to the room-events bucket: each refresh is a database look-up.
  const bucket = socketBucket(socket, 'rooms', deps.config);
  eventHandlers(socket, deps.log, namespace as '/')('refreshToken', { bucket }, async ({ token }) => {
    const session = await sessions.resolve(token);
    sessions.tracker.refresh(socket, session);
    return { expiresAt: new Date(session.expiresAt).toISOString() };
  });
}

/**
 * Wire every namespace: handshake auth first, then each event group's handlers. `hub` delivers
 * notifications to this node's '/notifications' sockets (backlog first).
 */
export function registerNamespaces(io: MainServer, deps: RealtimeDeps, sessions: SessionDeps, hub: NotificationHub): Namespaces {
  const guard = (role?: Role) => reportRefusals(authMiddleware(sessions.resolve, deps.log, role), sessions.refused);
  const auth = guard();
  io.use(auth);
  io.on('connection', (socket) => {
    startSession(socket, deps, sessions, '/');
    registerRoomHandlers(socket, deps);
    registerChatHandlers(io, socket, deps);
  });

  const user: UserNamespace = io.of(NAMESPACES.user);
  user.use(auth);
  user.on('connection', (socket) => {
    startSession(socket, deps, sessions, '/user');
    eventHandlers(socket, deps.log, '/user')('whoami', {}, () => ({ user: socket.data.user }));
  });

  const notifications: NotificationsNamespace = io.of(NAMESPACES.notifications);
  notifications.use(auth);
  notifications.on('connection', (socket) => {
    const userId = socket.data.user.id;
    // Join (in startSession) before reading the backlog: whatever arrives meanwhile is held, not missed.
    startSession(socket, deps, sessions, '/notifications');
    eventHandlers(socket, deps.log, '/notifications')('markRead', {}, async (payload) => ({
      updated:
        'all' in payload
          ? await deps.repos.notifications.markAllRead(userId)
          : await deps.repos.notifications.markRead(userId, payload.ids),
    }));
    hub
      .sendBacklog(socket, () => deps.repos.notifications.unreadBacklog(userId, deps.config.notificationBacklogMax))
      .catch((err: unknown) => deps.log.error({ err, socketId: socket.id, userId }, 'notification backlog failed'));
  });

  const admin: AdminNamespace = io.of(NAMESPACES.admin);
  admin.use(guard('admin'));
  const namespaces = { main: io, user, notifications, admin };
  admin.on('connection', (socket) => {
    startSession(socket, deps, sessions, '/admin');
    registerAdminHandlers(io, socket, deps, namespaces);
  });

  return namespaces;
}
