import type { Namespace, Server, Socket } from 'socket.io';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '@parley/config';
import type { NewPrivateMessage, NewRoomMessage } from '@parley/db';
import type {
  AdminClientToServer,
  AdminServerToClient,
  MainClientToServer,
  MainServerToClient,
  NotificationsClientToServer,
  NotificationsServerToClient,
  PublicUser,
  Untrusted,
  UserClientToServer,
  UserServerToClient,
} from '@parley/protocol';
import type { GroupCommit } from '../domain/group-commit.ts';
import type { Presence } from '../domain/presence.ts';
import type { TokenBucket } from '../domain/token-bucket.ts';
import type { Repositories } from '../plugins/db.ts';
import type { BucketKind } from './buckets.ts';

/** What the server keeps on each socket. */
export interface ServerSocketData {
  user: PublicUser;
  /** Room of the last 'join': where a bare-string 'chatMessage' goes. */
  currentRoom?: string;
  /** Rate limits by kind (see realtime/buckets.ts), created on first use. */
  buckets: Partial<Record<BucketKind, TokenBucket>>;
}

export type MainServer = Server<Untrusted<MainClientToServer>, MainServerToClient, Record<string, never>, ServerSocketData>;
export type MainSocket = Socket<Untrusted<MainClientToServer>, MainServerToClient, Record<string, never>, ServerSocketData>;
export type UserNamespace = Namespace<Untrusted<UserClientToServer>, UserServerToClient, Record<string, never>, ServerSocketData>;
export type NotificationsNamespace = Namespace<
  Untrusted<NotificationsClientToServer>,
  NotificationsServerToClient,
  Record<string, never>,
  ServerSocketData
>;
export type NotificationsSocket = Socket<
  Untrusted<NotificationsClientToServer>,
  NotificationsServerToClient,
  Record<string, never>,
  ServerSocketData
>;
export type AdminNamespace = Namespace<Untrusted<AdminClientToServer>, AdminServerToClient, Record<string, never>, ServerSocketData>;
export type AdminSocket = Socket<Untrusted<AdminClientToServer>, AdminServerToClient, Record<string, never>, ServerSocketData>;

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
}

/** Room every socket of a user joins, on '/', '/user' and '/notifications'. */
export function userRoom(userId: number): string {
  return `user:${userId}`;
}
