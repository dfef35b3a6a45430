import type { Namespace, Server, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '@parley/config';
import type { NewPrivateMessage, NewRoomMessage, Repositories } from '@parley/db';
import type { ClientToServer, NamespaceName, PublicUser, ServerToClient, Untrusted } from '@parley/protocol';
import type { GroupCommit } from '../domain/group-commit.ts';
import type { UserBudget } from '../limits/user-budget.ts';
import type { Presence } from '../presence/presence.ts';
import type { TokenBucket } from '../domain/token-bucket.ts';

/**
 * Per-socket rate limits (realtime/buckets.ts): `send` (message, chatMessage, privateMessage),
 * `typing` (typing, stopTyping; twice the send rate) and `rooms` (join, joinRoom, leaveRoom, sync).
 */
export type BucketKind = 'send' | 'typing' | 'rooms';

/** What the server keeps on each socket. */
export interface ServerSocketData {
  user: PublicUser;
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

export interface Namespaces {
  main: MainServer;
  user: UserNamespace;
  notifications: NotificationsNamespace;
  admin: AdminNamespace;
}

/** Everything a handler may touch; handlers never see Fastify or the whole app. */
export interface RealtimeDeps {
  config: Config;
  log: FastifyBaseLogger;
  repos: Repositories;
  /** Users by id, look-ups batched (null: no such user). */
  userLookup: GroupCommit<number, PublicUser | null>;
  presence: Presence;
  /** Persists chat and private messages in batches; resolves with the message id. */
  messageWriter: GroupCommit<NewRoomMessage | NewPrivateMessage, number>;
  /** Each user's budget of chat, private and 'message' events and post writes, shared by all its sockets. */
  userBudget: UserBudget;
}

/** Room every socket of a user joins, on '/', '/user' and '/notifications'. */
export function userRoom(userId: number): string {
  return `user:${userId}`;
}
