import { z } from 'zod';
import type { ErrorBody } from './errors.ts';
import {
  announcementPayload,
  chatMessagePayload,
  conversationReadPayload,
  errorBodySchema,
  notificationPayload,
  postPayload,
  positionSchema,
  privateMessagePayload,
  publicUserSchema,
  readStatePayload,
  readStateUpdatePayload,
  roomReadPayload,
  roomListSchema,
  roomUsersPayload,
  serverShutdownPayload,
  statsSchema,
  systemMessagePayload,
  typingPayload,
} from './payloads.ts';
import {
  announceSchema,
  chatMessageSchema,
  disconnectUserSchema,
  forgetRoomSchema,
  joinRoomSchema,
  joinSchema,
  leaveRoomSchema,
  listRoomsSchema,
  markReadSchema,
  messageDataSchema,
  privateMessageSchema,
  readConversationSchema,
  readRoomSchema,
  refreshTokenSchema,
  syncPrivateSchema,
  syncSchema,
  typingSchema,
} from './schemas.ts';

/** Namespaces; every one requires handshake auth `{ token }`. */
export const NAMESPACES = { main: '/', user: '/user', notifications: '/notifications', admin: '/admin' } as const;
export type NamespaceName = (typeof NAMESPACES)[keyof typeof NAMESPACES];

/**
 * An event a client sends. `payload`: its schema, or `null` when the only argument is the ack
 * callback. `ack`: the body of a successful ack (`{ ok: true, ...body }`), or `null` when the
 * contract gives the event no ack (the server still answers `{ ok: true }` to a client that
 * passes one).
 */
export interface InboundEvent {
  payload: z.ZodType | null;
  ack: z.ZodObject | null;
}

/** An ack body with nothing in it but `ok: true`. */
const okOnly = z.object({});

/**
 * Every namespace: replace the connection's token before it expires (the same user, current
 * token version). The whole connection (all its namespaces) then lives until the new `exp`.
 */
const refreshToken = {
  payload: refreshTokenSchema,
  ack: z.object({ expiresAt: z.iso.datetime().describe("the new token's exp") }),
} as const satisfies InboundEvent;

/**
 * The wire contract of every namespace, declared once: each inbound event with its payload and
 * ack schemas, each outbound event with its payload schema. The event maps for `Server<…>`,
 * `Socket<…>` and socket.io-client, and the runtime name lists, are derived from it; adding an
 * event is one entry here, and the compiler finds every place that must change.
 */
export const EVENTS = {
  '/': {
    inbound: {
      /** The lesson's first exercise: any JSON up to 4 KiB, echoed as `response`, `newMessage` and `broadcast`. */
      message: { payload: messageDataSchema, ack: null },
      join: { payload: joinSchema, ack: roomUsersPayload },
      chatMessage: { payload: chatMessageSchema, ack: z.object({ id: z.number().int(), position: positionSchema }) },
      joinRoom: { payload: joinRoomSchema, ack: z.object({ rooms: z.array(z.string()) }) },
      leaveRoom: { payload: leaveRoomSchema, ack: okOnly },
      /** `position`: the message's place in the sender's own private stream. */
      privateMessage: { payload: privateMessageSchema, ack: z.object({ id: z.number().int(), position: positionSchema }) },
      typing: { payload: typingSchema, ack: null },
      stopTyping: { payload: typingSchema, ack: null },
      /**
       * Extension: chat messages of `room` with id > sinceId or position > sincePosition, in
       * position order (catch-up after a reconnect or a gap). `position`: the room's last position
       * when read (where a new member starts counting).
       */
      sync: {
        payload: syncSchema,
        ack: z.object({ messages: z.array(chatMessagePayload), hasMore: z.boolean(), position: positionSchema }),
      },
      /**
       * Extension: the caller's private messages (received, and sent from any device) with id >
       * sinceId or position > sincePosition in the caller's private stream, oldest first
       * (catch-up after being offline). `position`: the stream's last position when read.
       */
      syncPrivate: {
        payload: syncPrivateSchema,
        ack: z.object({ messages: z.array(privateMessagePayload), hasMore: z.boolean(), position: positionSchema }),
      },
      /**
       * Extension (read state): the caller has read `room` up to `position` (clamped to the room's
       * last position; a cursor only moves forward). The socket must be in the room, as for 'sync'.
       */
      readRoom: { payload: readRoomSchema, ack: roomReadPayload },
      /** Extension: the caller has read what `userId` sent them up to `position` in the caller's private stream. */
      readConversation: { payload: readConversationSchema, ack: conversationReadPayload },
      /** Extension: the caller's rooms and conversations with their cursors and unread counts. */
      readState: { payload: null, ack: readStatePayload },
      /** Extension: drop `room` from the caller's list (its cursor); 'join' puts it back. */
      forgetRoom: { payload: forgetRoomSchema, ack: okOnly },
      refreshToken,
    },
    outbound: {
      response: z.object({ message: z.literal('Received') }),
      newMessage: z.unknown(),
      broadcast: z.unknown(),
      message: z.union([chatMessagePayload, systemMessagePayload]),
      roomUsers: roomUsersPayload,
      userJoined: z.string().describe('socket id'),
      privateMessage: privateMessagePayload,
      typing: typingPayload,
      stopTyping: typingPayload,
      postUpdated: postPayload,
      postDeleted: z.number().int().describe('post id'),
      announcement: announcementPayload,
      serverShutdown: serverShutdownPayload,
      /**
       * Extension: broadcasts between nodes may have been lost (this node's Redis connection was
       * away, or another node could not publish meanwhile): catch up with 'sync' / 'syncPrivate'
       * from the last message seen. What was stored meanwhile is there.
       */
      resync: z.object({
        reason: z.enum(['redis', 'retry']),
        /** 'retry': a send was retried whose first node may have died before broadcasting it: it is at `position` in `room` (or, without `room`, in the receiver's private stream). */
        room: z.string().optional(),
        position: positionSchema.optional(),
      }),
      /**
       * Extension, to every socket of the user on every node: one of its read cursors was created
       * (a room joined) or moved, here or on another device.
       */
      readState: readStateUpdatePayload,
      /** Extension, to every socket of the user: `room` left the user's list ('forgetRoom' on some device). */
      roomForgotten: z.object({ room: z.string() }),
      error: errorBodySchema,
    },
  },
  '/user': {
    inbound: { whoami: { payload: null, ack: z.object({ user: publicUserSchema }) }, refreshToken },
    outbound: { error: errorBodySchema },
  },
  '/notifications': {
    inbound: {
      /** Extension: mark notifications read from the socket. */
      markRead: { payload: markReadSchema, ack: z.object({ updated: z.number().int() }) },
      refreshToken,
    },
    outbound: {
      notification: notificationPayload,
      /**
       * Extension: sent on connect, before the backlog: how many notifications are unread. The
       * backlog carries the newest NOTIFICATION_BACKLOG_MAX of them; GET /notifications pages the rest.
       */
      unreadCount: z.object({ count: z.number().int().nonnegative() }),
      error: errorBodySchema,
    },
  },
  '/admin': {
    inbound: {
      announce: { payload: announceSchema, ack: okOnly },
      stats: { payload: null, ack: statsSchema },
      /** Extension: the cluster's rooms with their member counts, a page at a time (the operator console). */
      listRooms: { payload: listRoomsSchema, ack: roomListSchema },
      disconnectUser: { payload: disconnectUserSchema, ack: z.object({ userId: z.number().int() }) },
      refreshToken,
    },
    outbound: { error: errorBodySchema },
  },
} as const satisfies Record<NamespaceName, { inbound: Record<string, InboundEvent>; outbound: Record<string, z.ZodType> }>;

export type Inbound<N extends NamespaceName> = (typeof EVENTS)[N]['inbound'];
export type Outbound<N extends NamespaceName> = (typeof EVENTS)[N]['outbound'];
export type InboundName<N extends NamespaceName> = keyof Inbound<N> & string;

export type AckOk<T extends object = object> = { ok: true } & T;
export interface AckError {
  ok: false;
  error: ErrorBody;
}
export type Ack<T extends object = object> = AckOk<T> | AckError;
export type AckFn<T extends object = object> = (response: Ack<T>) => void;

/** The success body of event `E`'s ack (`{}` for an ack with nothing but `ok`). */
export type AckBody<N extends NamespaceName, E extends InboundName<N>> = Inbound<N>[E] extends { ack: infer A extends z.ZodObject }
  ? z.output<A>
  : Record<never, never>;

/** What a handler of `E` returns: the ack body, or nothing when the ack carries no data. */
export type HandlerResult<N extends NamespaceName, E extends InboundName<N>> =
  Record<never, never> extends AckBody<N, E> ? void : AckBody<N, E>;

type ClientSignature<D> = D extends { payload: infer P; ack: infer A }
  ? P extends z.ZodType
    ? A extends z.ZodObject
      ? (payload: z.input<P>, ack: AckFn<z.output<A>>) => void
      : (payload: z.input<P>) => void
    : A extends z.ZodObject
      ? (ack: AckFn<z.output<A>>) => void
      : () => void
  : never;

/**
 * Events a client emits on namespace `N` (for socket.io-client's `Socket<ServerToClient, ClientToServer>`).
 * An event with an ack takes the callback last, so `emitWithAck` is typed.
 */
export type ClientToServer<N extends NamespaceName> = { [E in keyof Inbound<N>]: ClientSignature<Inbound<N>[E]> };

/** Events the server emits on namespace `N`. */
export type ServerToClient<N extends NamespaceName> = {
  [E in keyof Outbound<N>]: (payload: z.output<Outbound<N>[E]>) => void;
};

/** What the server actually receives: anything. Handlers validate before trusting a payload. */
export type Untrusted<Events> = { [K in keyof Events]: (...args: unknown[]) => void };

export type MainClientToServer = ClientToServer<'/'>;
export type MainServerToClient = ServerToClient<'/'>;
export type JoinPayload = z.input<typeof joinSchema>;
