import { z } from 'zod';

/** Longest chat, private or announcement text, in UTF-16 code units (CONTRACT.md). */
export const MAX_TEXT_LENGTH = 2000;
/** Most rooms one `joinRoom` call may name. */
export const MAX_ROOMS_PER_JOIN = 20;
/** Room prefixes the server owns; clients can never join, chat in or read them. */
export const RESERVED_ROOM_PREFIXES = ['user:', 'node:', 'admin:', 'system:'] as const;

export const usernameSchema = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only');
export const passwordSchema = z.string().min(8).max(128);
export const credentialsSchema = z.object({ username: usernameSchema, password: passwordSchema });

export const roomSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N} _.:#-]+$/u, 'letters, digits, space and "_.:#-" only');

export const textSchema = z
  .string()
  .max(MAX_TEXT_LENGTH)
  .refine((s) => s.trim().length > 0, 'must not be blank');

export const idSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export function isReservedRoom(room: string): boolean {
  return RESERVED_ROOM_PREFIXES.some((prefix) => room.startsWith(prefix));
}

// ---- Socket.IO inbound payloads ('/') ----
export const joinSchema = z.object({ username: z.unknown().optional(), room: roomSchema });
export const chatMessageSchema = z.union([textSchema, z.object({ room: roomSchema, text: textSchema })]);
export const joinRoomSchema = z.union([roomSchema, z.array(roomSchema).min(1).max(MAX_ROOMS_PER_JOIN)]);
export const leaveRoomSchema = roomSchema;
export const privateMessageSchema = z.object({ to: idSchema, message: textSchema });
export const typingSchema = z.object({ room: roomSchema });
export const syncSchema = z.object({
  room: roomSchema,
  /** Last message id the client saw in that room; 0 for "from the start of the retained window". */
  sinceId: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  limit: z.number().int().min(1).max(500).optional(),
});

// ---- '/admin' inbound payloads ----
export const announceSchema = z.object({ text: textSchema });
export const disconnectUserSchema = z.object({ userId: idSchema });

// ---- HTTP ----
export const historyQuerySchema = z.object({
  before: idSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const roomParamsSchema = z.object({ room: roomSchema });
export const idParamsSchema = z.object({ id: idSchema });
export const postBodySchema = z.object({
  title: z.string().trim().min(1).max(200).optional(),
  content: z.string().min(1).max(20_000),
});
export const postUpdateSchema = z
  .object({
    title: z.string().trim().min(1).max(200).nullable().optional(),
    content: z.string().min(1).max(20_000).optional(),
  })
  .refine((b) => b.title !== undefined || b.content !== undefined, 'nothing to update');
export const notificationsQuerySchema = z.object({
  unread: z.enum(['true', 'false']).optional(),
  before: idSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const pageQuerySchema = z.object({
  before: idSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** A notification's human text (notifications.message is VARCHAR(500)). */
export const notificationMessageSchema = z.string().trim().min(1).max(500);

// ---- '/notifications' inbound payloads ----
export const markReadSchema = z.union([
  z.object({ ids: z.array(idSchema).min(1).max(500) }),
  z.object({ all: z.literal(true) }),
]);
export const followPageQuerySchema = z.object({
  after: z.coerce.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
