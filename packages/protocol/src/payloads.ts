import { z } from 'zod';
import { ERRORS, type ErrorCode } from './errors.ts';

/**
 * What the server sends: every outbound payload and ack body as a zod schema. The TypeScript
 * types below are inferred from these, so a payload is declared once (the event map in
 * events.ts refers to them).
 */

const isoTime = z.string().describe('ISO-8601 time');
/**
 * Extension: a message's place in its stream (a room; a user's private messages), gapless from
 * 1 and committed in order, so a member that sees position n+2 after n knows n+1 is missing
 * (late or lost) and can fetch it with 'sync' / 'syncPrivate' {sincePosition: n}.
 */
export const positionSchema = z.number().int().nonnegative();

export const roleSchema = z.enum(['user', 'admin']);
export const publicUserSchema = z.object({ id: z.number().int(), username: z.string(), role: roleSchema });

export const chatMessagePayload = z.object({
  id: z.number().int(),
  room: z.string(),
  username: z.string(),
  userId: z.number().int(),
  text: z.string(),
  /** Time the server accepted the message. */
  timestamp: isoTime,
  /** Extension: its place in the room. */
  position: positionSchema,
});
export const systemMessagePayload = z.object({
  username: z.literal('System'),
  text: z.string(),
  timestamp: isoTime,
  /** Extension: the room it is about (a socket in several rooms can tell them apart). */
  room: z.string(),
});
export const roomUsersPayload = z.object({
  room: z.string(),
  /** The first arrivals among the room's users, each once, in arrival order: at most ROOM_USERS_MAX. */
  users: z.array(z.string()),
  /** Extension: how many distinct users are in the room (may exceed `users.length`). */
  count: z.number().int(),
});
export const privateMessagePayload = z.object({
  /** Message id (persisted); an extension of the lesson's payload. */
  id: z.number().int(),
  from: z.number().int(),
  fromUsername: z.string(),
  /** Recipient user id; an extension so a sender's other devices can file it. */
  to: z.number().int(),
  message: z.string(),
  timestamp: isoTime,
  /** Extension: its place in the private stream of the user it is sent to (every private message that user sent or received). */
  position: positionSchema,
  /** Extension: on its author's own copies only (other devices, catch-up), the clientId it was sent with. */
  clientId: z.string().optional(),
});
export const typingPayload = z.object({
  user: z.string(),
  /** Extension: which room the user types in. */
  room: z.string(),
});
export const postPayload = z.object({
  id: z.number().int(),
  title: z.string().nullable(),
  content: z.string(),
  authorId: z.number().int(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export const notificationPayload = z.object({
  id: z.number().int(),
  type: z.string(),
  message: z.string(),
  data: z.record(z.string(), z.unknown()),
  timestamp: isoTime,
  /** Extension: when it was marked read, null while unread. */
  readAt: isoTime.nullable(),
});
/** Extension (read state): messages of others after a cursor, counted up to UNREAD_COUNT_MAX. */
const unreadSchema = z.number().int().nonnegative().describe('messages of others after readPosition, at most UNREAD_COUNT_MAX');
/** Extension: where the caller stands in a room: its last position, the caller's cursor, what is unread. */
export const roomReadStatePayload = z.object({
  room: z.string(),
  /** The room's last position. */
  position: positionSchema,
  readPosition: positionSchema,
  unread: unreadSchema,
});
/** Extension: a conversation of the caller's: the peer, the last message's place in the caller's private stream, the cursor, what is unread. */
export const conversationReadStatePayload = z.object({
  user: publicUserSchema,
  /** Position, in the caller's private stream, of the conversation's last message. */
  position: positionSchema,
  readPosition: positionSchema,
  /** Messages from `user` after readPosition. */
  unread: unreadSchema,
  lastMessage: privateMessagePayload.nullable(),
});
/** Extension: the caller's read state ('readState' ack, GET /me/read-state). */
export const readStatePayload = z.object({
  /** Rooms with a cursor, the most recently read or joined first (at most READ_STATE_ROOMS_MAX). */
  rooms: z.array(roomReadStatePayload),
  /** Peers the caller exchanged private messages with, the latest first (at most READ_STATE_CONVERSATIONS_MAX). */
  conversations: z.array(conversationReadStatePayload),
});
export const roomReadPayload = z.object({ room: z.string(), readPosition: positionSchema, unread: unreadSchema });
export const conversationReadPayload = z.object({ userId: z.number().int(), readPosition: positionSchema, unread: unreadSchema });
/** Extension, to every socket of the user: a read cursor was created or moved (`room` or `userId` says which). */
export const readStateUpdatePayload = z.object({
  room: z.string().optional(),
  userId: z.number().int().optional(),
  readPosition: positionSchema,
  unread: unreadSchema,
});
export const announcementPayload = z.object({ text: z.string(), timestamp: isoTime });
export const nodeStatsSchema = z.object({ nodeId: z.string(), connections: z.number().int() });
export const statsSchema = z.object({ nodes: z.array(nodeStatsSchema), connections: z.number().int(), rooms: z.number().int() });
/** A room and how many distinct users are in it, cluster-wide. */
export const roomCountSchema = z.object({ room: z.string(), count: z.number().int().positive() });
/** A page of 'listRooms' (extension): rooms in name order; `hasMore` when rooms follow the last one. */
export const roomListSchema = z.object({ rooms: z.array(roomCountSchema), hasMore: z.boolean() });
/** Why the server is closing a socket before it goes away (extension, sent before a drain). */
export const serverShutdownPayload = z.object({ nodeId: z.string(), reconnect: z.literal(true) });
export const errorBodySchema = z.object({
  code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
  message: z.string(),
});

export type Role = z.infer<typeof roleSchema>;
export type PublicUser = z.infer<typeof publicUserSchema>;
export type ChatMessage = z.infer<typeof chatMessagePayload>;
export type SystemMessage = z.infer<typeof systemMessagePayload>;
export type RoomUsers = z.infer<typeof roomUsersPayload>;
export type PrivateMessage = z.infer<typeof privateMessagePayload>;
export type TypingEvent = z.infer<typeof typingPayload>;
export type Post = z.infer<typeof postPayload>;
export type Notification = z.infer<typeof notificationPayload>;
export type Announcement = z.infer<typeof announcementPayload>;
export type NodeStats = z.infer<typeof nodeStatsSchema>;
export type Stats = z.infer<typeof statsSchema>;
export type RoomCount = z.infer<typeof roomCountSchema>;
export type RoomList = z.infer<typeof roomListSchema>;
export type ServerShutdown = z.infer<typeof serverShutdownPayload>;
export type RoomReadState = z.infer<typeof roomReadStatePayload>;
export type ConversationReadState = z.infer<typeof conversationReadStatePayload>;
export type ReadState = z.infer<typeof readStatePayload>;
export type RoomRead = z.infer<typeof roomReadPayload>;
export type ConversationRead = z.infer<typeof conversationReadPayload>;
export type ReadStateUpdate = z.infer<typeof readStateUpdatePayload>;
