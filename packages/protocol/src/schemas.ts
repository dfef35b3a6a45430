import { z } from 'zod';

/** Longest chat, private or announcement text, in UTF-16 code units (docs/PROTOCOL.md). */
export const MAX_TEXT_LENGTH = 2000;
/** Most rooms one `joinRoom` call may name. */
export const MAX_ROOMS_PER_JOIN = 20;
/** Most rooms one connection may be in (the server-owned ones aside). */
export const MAX_ROOMS_PER_SOCKET = 50;
/** Room prefixes the server owns; clients can never join, chat in or read them. */
export const RESERVED_ROOM_PREFIXES = ['user:', 'node:', 'admin:', 'system:'] as const;
/**
 * The shape of a Socket.IO socket id (15 random bytes, base64url: 20 characters). Every socket
 * is in a room named after its id, so a room of that shape is reserved: judged by shape, not by
 * looking the id up, so it holds for sockets on every node of a cluster.
 */
export const SOCKET_ID_SHAPE = /^[A-Za-z0-9_-]{20}$/;
/** Largest 'message' data, serialised as JSON, in UTF-8 bytes (docs/PROTOCOL.md). */
export const MAX_MESSAGE_BYTES = 4096;
/**
 * Read state: an unread count stops at this (it means "at least this many"), so counting stays
 * bounded however far behind a cursor is.
 */
export const UNREAD_COUNT_MAX = 1000;
/** Read state: most rooms a `readState` answer lists (the most recently read or joined). */
export const READ_STATE_ROOMS_MAX = 200;
/** Read state: most conversations a `readState` answer lists (the most recent first). */
export const READ_STATE_CONVERSATIONS_MAX = 100;
/** Largest value of an INTEGER (int4) id column: users, posts. */
export const MAX_INT4_ID = 2_147_483_647;

export const usernameSchema = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only');
export const passwordSchema = z.string().min(8).max(128);
export const credentialsSchema = z.object({ username: usernameSchema, password: passwordSchema });
/** Login only checks the shape: a name or password outside the rules is just wrong credentials. */
export const loginSchema = z.object({ username: z.string().max(256), password: z.string().max(1024) });
/** A password being checked (not set): any string up to 1024, wrong ones are just wrong. */
const currentPasswordSchema = z.string().max(1024);
/** POST /auth/password: the current password, and the new one under the registration rules. */
export const passwordChangeSchema = z.object({ currentPassword: currentPasswordSchema, newPassword: passwordSchema });
/** DELETE /me: the password confirms the deletion. */
export const accountDeletionSchema = z.object({ password: currentPasswordSchema });
/** 'refreshToken' on any namespace: a newer token for the connection's user. */
export const refreshTokenSchema = z.object({ token: z.string().min(1).max(4096) });

/**
 * A room name, NFC-normalised and trimmed before it is checked: every spelling of a name (é
 * composed or not, surrounding spaces) is the same room, and the normalised name is the one
 * used everywhere (acks, events, history, presence).
 */
export const roomSchema = z
  .string()
  .transform((s) => s.normalize('NFC').trim())
  .pipe(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[\p{L}\p{N} _.:#-]+$/u, 'letters, digits, space and "_.:#-" only'),
  );

/** Control characters other than tab, line feed and carriage return: C0, DEL and C1 (U+0000 included, which PostgreSQL text cannot hold). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTER = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
/** Half of a UTF-16 surrogate pair on its own (with the u flag a whole pair is one code point, not Cs). */
const LONE_SURROGATE = /\p{Cs}/u;
/** What shows nothing: whitespace, and zero-width and format characters (Unicode Cf: U+200B, U+FEFF, joiners, bidi marks). */
const INVISIBLE = /[\s\p{Cf}]/gu;

/**
 * Text that is stored (chat, private messages, announcements, posts, notifications): at most
 * `max` UTF-16 code units, no control character, and something visible once whitespace and
 * zero-width / format characters are set aside. Refused here as invalid_payload, never in the
 * database.
 */
export function storedText(max: number) {
  return (
    z
      .string()
      .max(max)
      .refine((s) => !CONTROL_CHARACTER.test(s), 'must not contain control characters')
      // A lone surrogate cannot be encoded in UTF-8: the database would store U+FFFD instead.
      .refine((s) => !LONE_SURROGATE.test(s), 'must be well-formed Unicode (no lone surrogate)')
      .refine((s) => s.replace(INVISIBLE, '').length > 0, 'must not be blank')
  );
}

export const textSchema = storedText(MAX_TEXT_LENGTH);

/**
 * Id of an INTEGER column (users, posts) in a JSON payload. Larger values cannot exist; letting
 * them through would fail in the database (a 500), not as invalid_payload.
 */
export const idSchema = z.number().int().positive().max(MAX_INT4_ID);
/** Id of a BIGINT column (messages, notifications) in a JSON payload. */
export const bigIdSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const decimalDigits = z
  .string()
  .regex(/^\d{1,16}$/, 'must be a positive integer')
  .transform(Number);
/** `idSchema` for a URL parameter or query value (a string of digits). */
export const idParamSchema = decimalDigits.pipe(idSchema);
/** `bigIdSchema` for a URL parameter or query value. */
export const bigIdParamSchema = decimalDigits.pipe(bigIdSchema);

/** Rooms the server owns: reserved prefixes and socket-id-shaped names. */
export function isReservedRoom(room: string): boolean {
  return RESERVED_ROOM_PREFIXES.some((prefix) => room.startsWith(prefix)) || SOCKET_ID_SHAPE.test(room);
}

// ---- Socket.IO inbound payloads ('/') ----
/**
 * The lesson's 'message': any JSON up to MAX_MESSAGE_BYTES serialised. A larger one fails with an
 * issue whose `params.code` is 'payload_too_large' (the code the server answers with).
 */
export const messageDataSchema = z.unknown().superRefine((data, ctx) => {
  if (data === undefined) return;
  const bytes = new TextEncoder().encode(JSON.stringify(data)).length;
  if (bytes > MAX_MESSAGE_BYTES) {
    ctx.addIssue({
      code: 'custom',
      message: `at most ${MAX_MESSAGE_BYTES} bytes of JSON (got ${bytes})`,
      params: { code: 'payload_too_large' },
    });
  }
});
export const joinSchema = z.object({ username: z.unknown().optional(), room: roomSchema });
/**
 * Chosen by the client for a message it may send again (after a lost ack): a retry with the
 * same (user, clientId) answers with the first message's id and is not stored or broadcast again.
 */
export const clientIdSchema = storedText(64).pipe(z.string().min(1));
export const chatMessageSchema = z.union([
  textSchema,
  z.object({ room: roomSchema, text: textSchema, clientId: clientIdSchema.optional() }),
]);
export const joinRoomSchema = z.union([roomSchema, z.array(roomSchema).min(1).max(MAX_ROOMS_PER_JOIN)]);
export const leaveRoomSchema = roomSchema;
export const privateMessageSchema = z.object({ to: idSchema, message: textSchema, clientId: clientIdSchema.optional() });
export const typingSchema = z.object({ room: roomSchema });
const cursorValue = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const syncFields = {
  /** Last message id the client saw; 0 for "from the start of the retained window". */
  sinceId: cursorValue.optional(),
  /** Extension: the last position the client delivered in the stream (exact: nothing skipped, nothing twice). */
  sincePosition: cursorValue.optional(),
  /** At most this many messages; 0 asks only where the stream is (the ack's `position`). */
  limit: z.number().int().min(0).max(500).optional(),
};
const oneCursor = (v: { sinceId?: number; sincePosition?: number }) => (v.sinceId === undefined) !== (v.sincePosition === undefined);
const oneCursorError = { error: 'Give exactly one of sinceId and sincePosition' };
/** 'sync': a room's messages after the last one the client saw. */
export const syncSchema = z.object({ room: roomSchema, ...syncFields }).refine(oneCursor, oneCursorError);
/** 'syncPrivate': the caller's private messages (both directions) after the last one seen. */
export const syncPrivateSchema = z.object(syncFields).refine(oneCursor, oneCursorError);

/** A read cursor's new place in its stream (clamped to the stream's last position). */
const readPosition = cursorValue.describe("the last position read (clamped to the stream's last)");
/** 'readRoom': the caller has read `room` up to `position`. */
export const readRoomSchema = z.object({ room: roomSchema, position: readPosition });
/** 'readConversation': the caller has read the messages `userId` sent them, up to `position` in the caller's private stream. */
export const readConversationSchema = z.object({ userId: idSchema, position: readPosition });
/** 'forgetRoom': drop `room` from the caller's list (its read cursor). */
export const forgetRoomSchema = z.object({ room: roomSchema });

// ---- '/admin' inbound payloads ----
export const announceSchema = z.object({ text: textSchema });
export const disconnectUserSchema = z.object({ userId: idSchema });
/** Most rooms one 'listRooms' page holds. */
export const ROOMS_PAGE_MAX = 200;
/** 'listRooms' (extension): a page of the cluster's rooms with members, in name order, after the room `after`. */
export const listRoomsSchema = z.object({
  after: z.string().min(1).max(64).optional(),
  limit: z.number().int().min(1).max(ROOMS_PAGE_MAX).default(50),
});

// ---- HTTP ----
export const historyQuerySchema = z.object({
  before: bigIdParamSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const roomParamsSchema = z.object({ room: roomSchema });
export const userIdParamsSchema = z.object({ userId: idParamSchema });
/** PUT /me/read-state/…: the cursor's new place. */
export const readPositionBodySchema = z.object({ position: readPosition });
export const idParamsSchema = z.object({ id: idParamSchema });
/** `:username` of a look-up: any name up to 256 characters (one outside the rules is just not found). */
export const usernameParamsSchema = z.object({ username: z.string().min(1).max(256) });
/** `:id` of a BIGINT row (notifications). */
export const bigIdParamsSchema = z.object({ id: bigIdParamSchema });
const postTitle = z.string().trim().pipe(storedText(200));
const postContent = storedText(20_000);
export const postBodySchema = z.object({
  title: postTitle.optional(),
  content: postContent,
});
export const postUpdateSchema = z
  .object({
    title: postTitle.nullable().optional(),
    content: postContent.optional(),
  })
  .refine((b) => b.title !== undefined || b.content !== undefined, 'nothing to update');
export const notificationsQuerySchema = z.object({
  unread: z.enum(['true', 'false']).optional(),
  before: bigIdParamSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const pageQuerySchema = z.object({
  before: idParamSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/** A notification's human text (notifications.message is VARCHAR(500)). */
export const notificationMessageSchema = z.string().trim().pipe(storedText(500));

// ---- '/notifications' inbound payloads ----
export const markReadSchema = z.union([z.object({ ids: z.array(bigIdSchema).min(1).max(500) }), z.object({ all: z.literal(true) })]);
export const followPageQuerySchema = z.object({
  after: decimalDigits.pipe(z.number().int().nonnegative().max(MAX_INT4_ID)).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
