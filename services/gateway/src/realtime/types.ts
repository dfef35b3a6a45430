import type { Namespace, Server, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '@parley/config';
import type { Account, NewPrivateMessage, NewRoomMessage, Repositories, RoomEntry, StoredMessage } from '@parley/db';
import type { ClientToServer, ErrorBody, NamespaceName, PublicUser, ServerToClient, Untrusted } from '@parley/protocol';
import type { GroupCommit } from '../domain/group-commit.ts';
import type { UserBudget } from '../limits/user-budget.ts';
import type { Presence, PresenceChange } from '../presence/presence.ts';
import type { TokenBucket } from '../domain/token-bucket.ts';

/**
 * Per-socket rate limits (realtime/buckets.ts): `send` (message, chatMessage, privateMessage),
 * `typing` (typing, stopTyping; twice the send rate), `rooms` (join, joinRoom, leaveRoom, sync,
 * syncPrivate, and refreshToken on every namespace) and `reads` (readRoom, readConversation,
 * readState, forgetRoom).
 */
export type BucketKind = 'send' | 'typing' | 'rooms' | 'reads';

/** What the server keeps on each socket. */
export interface ServerSocketData {
  user: PublicUser;
  /** The token version of the socket's token (a revocation ends sockets below the new one). */
  tokenVersion: number;
  /** When the socket's token expires (ms since the epoch); 'refreshToken' moves it. */
  expiresAt: number;
  /** Room of the last 'join': where a bare-string 'chatMessage' goes. */
  currentRoom?: string;
  /** Rate limits by kind (see realtime/buckets.ts), created on first use. */
  buckets: Partial<Record<BucketKind, TokenBucket>>;
}

type Listen<N extends NamespaceName> = Untrusted<ClientToServer<N>>;
type ServerNamespace<N extends NamespaceName> = Namespace<Listen<N>, ServerToClient<N>, Record<string, never>, ServerSocketData>;
type ServerSocket<N extends NamespaceName> = Socket<Listen<N>, ServerToClient<N>, Record<string, never>, ServerSocketData>;

export type MainServer = Server<Listen<'/'>, ServerToClient<'/'>, Record<string, never>, ServerSocketData>;
export type MainSocket = ServerSocket<'/'>;
export type UserNamespace = ServerNamespace<'/user'>;
export type NotificationsNamespace = ServerNamespace<'/notifications'>;
export type NotificationsSocket = ServerSocket<'/notifications'>;
export type AdminNamespace = ServerNamespace<'/admin'>;
export type AdminSocket = ServerSocket<'/admin'>;
/** A socket of any namespace (each can be sent 'error'). */
export type AnySocket = Socket<
  Record<string, (...args: unknown[]) => void>,
  { error: (e: ErrorBody) => void },
  Record<string, never>,
  ServerSocketData
>;

export interface Namespaces {
  main: MainServer;
  user: UserNamespace;
  notifications: NotificationsNamespace;
  admin: AdminNamespace;
}

/** How handlers tell a room of presence changes (announcements.ts's RoomAnnouncer). */
export interface Announcer {
  /** The user's last socket left `room`: "has left" and roomUsers at once, or in the room's next summary. */
  left(room: string, username: string, change: PresenceChange): void;
  /** A coalesced change happened in `room`: its next summary will say so. */
  schedule(room: string): void;
}

/** Everything a handler may touch; handlers never see Fastify or the whole app. */
export interface RealtimeDeps {
  config: Config;
  log: FastifyBaseLogger;
  repos: Repositories;
  /** Users by id, look-ups batched (null: no such user). */
  userLookup: GroupCommit<number, Account | null>;
  presence: Presence;
  announcer: Announcer;
  /** Persists chat and private messages in batches; resolves with the message id (and whether it is a retry's). */
  messageWriter: GroupCommit<NewRoomMessage | NewPrivateMessage, StoredMessage>;
  /** Each user's budget of chat, private and 'message' events, read cursor moves and post writes, shared by all its sockets. */
  userBudget: UserBudget;
  /** Creates the read cursors of joined rooms in batches; resolves with a new cursor's position, null when it existed. */
  roomCursors: GroupCommit<RoomEntry, number | null>;
}

/** Room every socket of a user joins, on '/', '/user' and '/notifications'. */
export function userRoom(userId: number): string {
  return `user:${userId}`;
}
