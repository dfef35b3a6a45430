import type { ErrorBody } from './errors.ts';

/** Namespaces; every one requires handshake auth `{ token }`. */
export const NAMESPACES = { main: '/', user: '/user', notifications: '/notifications', admin: '/admin' } as const;

export type Role = 'user' | 'admin';

export interface PublicUser {
  id: number;
  username: string;
  role: Role;
}

export interface ChatMessage {
  id: number;
  room: string;
  username: string;
  userId: number;
  text: string;
  /** ISO-8601 time the server accepted the message. */
  timestamp: string;
}

export interface SystemMessage {
  username: 'System';
  text: string;
  timestamp: string;
}

export interface RoomUsers {
  room: string;
  users: string[];
}

export interface PrivateMessage {
  /** Message id (persisted); an extension of the lesson's payload. */
  id: number;
  from: number;
  fromUsername: string;
  /** Recipient user id; an extension so a sender's other devices can file it. */
  to: number;
  message: string;
  timestamp: string;
}

export interface TypingEvent {
  user: string;
  /** Extension: which room the user types in. */
  room: string;
}

export interface Post {
  id: number;
  title: string | null;
  content: string;
  authorId: number;
  createdAt: string;
  updatedAt: string;
}

export interface Notification {
  id: number;
  type: string;
  message: string;
  data: Record<string, unknown>;
  timestamp: string;
  /** Extension: when it was marked read, null while unread. */
  readAt: string | null;
}

export interface Announcement {
  text: string;
  timestamp: string;
}

export interface NodeStats {
  nodeId: string;
  connections: number;
}

export interface Stats {
  nodes: NodeStats[];
  connections: number;
  rooms: number;
}

/** Why the server is closing a socket before it goes away (extension, sent before a drain). */
export interface ServerShutdown {
  nodeId: string;
  reconnect: true;
}

export type AckOk<T extends object = object> = { ok: true } & T;
export interface AckError {
  ok: false;
  error: ErrorBody;
}
export type Ack<T extends object = object> = AckOk<T> | AckError;
export type AckFn<T extends object = object> = (response: Ack<T>) => void;

// ---- '/' ----
export interface MainServerToClient {
  response: (payload: { message: 'Received' }) => void;
  newMessage: (data: unknown) => void;
  broadcast: (data: unknown) => void;
  message: (payload: ChatMessage | SystemMessage) => void;
  roomUsers: (payload: RoomUsers) => void;
  userJoined: (socketId: string) => void;
  privateMessage: (payload: PrivateMessage) => void;
  typing: (payload: TypingEvent) => void;
  stopTyping: (payload: TypingEvent) => void;
  postUpdated: (post: Post) => void;
  postDeleted: (postId: number) => void;
  announcement: (payload: Announcement) => void;
  serverShutdown: (payload: ServerShutdown) => void;
  error: (error: ErrorBody) => void;
}

export interface JoinPayload {
  room: string;
  /** Ignored: the server always uses the authenticated username. */
  username?: string;
}

export interface MainClientToServer {
  message: (data: unknown) => void;
  join: (payload: JoinPayload, ack?: AckFn<{ room: string; users: string[] }>) => void;
  chatMessage: (payload: string | { room: string; text: string }, ack?: AckFn<{ id: number }>) => void;
  joinRoom: (rooms: string | string[], ack?: AckFn<{ rooms: string[] }>) => void;
  leaveRoom: (room: string, ack?: AckFn) => void;
  privateMessage: (payload: { to: number; message: string }, ack?: AckFn<{ id: number }>) => void;
  typing: (payload: { room: string }) => void;
  stopTyping: (payload: { room: string }) => void;
  /** Extension: chat messages of `room` with id > sinceId, oldest first (catch-up after a reconnect). */
  sync: (
    payload: { room: string; sinceId: number; limit?: number },
    ack: AckFn<{ messages: ChatMessage[]; hasMore: boolean }>,
  ) => void;
}

// ---- '/user' ----
export interface UserServerToClient {
  error: (error: ErrorBody) => void;
}
export interface UserClientToServer {
  whoami: (ack: AckFn<{ user: PublicUser }>) => void;
}

// ---- '/notifications' ----
export interface NotificationsServerToClient {
  notification: (payload: Notification) => void;
  error: (error: ErrorBody) => void;
}
export interface NotificationsClientToServer {
  /** Extension: mark notifications read from the socket. */
  markRead: (payload: { ids: number[] } | { all: true }, ack?: AckFn<{ updated: number }>) => void;
}

// ---- '/admin' ----
export interface AdminServerToClient {
  error: (error: ErrorBody) => void;
}
export interface AdminClientToServer {
  announce: (payload: { text: string }, ack?: AckFn) => void;
  stats: (ack: AckFn<Stats>) => void;
  disconnectUser: (payload: { userId: number }, ack?: AckFn<{ userId: number }>) => void;
}

/**
 * What the server actually receives: anything. Handlers validate before trusting a payload.
 */
export type Untrusted<Events> = {
  [K in keyof Events]: (...args: unknown[]) => void;
};

/** Data the server keeps on each socket (`socket.data`). */
export interface SocketData {
  user: PublicUser;
}
