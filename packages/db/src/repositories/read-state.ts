import {
  ParleyError,
  READ_STATE_CONVERSATIONS_MAX,
  READ_STATE_ROOMS_MAX,
  UNREAD_COUNT_MAX,
  type ConversationReadState,
  type ReadState,
  type Role,
  type RoomReadState,
} from '@parley/protocol';
import type { SqlClient } from '../sql.ts';
import { privateMessageFromSql, privateStream, roomStream, type PrivateSqlRow } from './messages.ts';

/** A read cursor after a read: where it is, what follows it unread, whether this read created or moved it. */
export interface CursorMove {
  readPosition: number;
  unread: number;
  moved: boolean;
}

/** A room a user has joined: it gets a cursor at the room's last position unless it has one. */
export interface RoomEntry {
  userId: number;
  room: string;
}

type Id = string | number | bigint;

/** PostgreSQL's foreign_key_violation: the user (or the peer) is gone. */
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * Messages counted as unread after a cursor, at most UNREAD_COUNT_MAX, so a cursor far behind
 * costs a bounded index range, not the whole stream (in the index's order: a bitmap scan would
 * read the whole range before the limit). Arguments are SQL expressions.
 */
const unreadInRoom = (user: string, room: string, after: string) => `(SELECT count(*) FROM (
    SELECT 1 FROM messages m WHERE m.room = ${room} AND m.room_position > ${after} AND m.author_id <> ${user}
    ORDER BY m.room_position LIMIT ${UNREAD_COUNT_MAX}) unread)`;
/** From `peer` to `user` after a position in `user`'s private stream (never one's own: notes to oneself are read). */
const unreadFromPeer = (user: string, peer: string, after: string) => `(SELECT count(*) FROM (
    SELECT 1 FROM messages m WHERE m.recipient_id = ${user} AND m.author_id = ${peer} AND m.author_id <> ${user}
      AND m.recipient_position > ${after}
    ORDER BY m.recipient_position LIMIT ${UNREAD_COUNT_MAX}) unread)`;

/** Where a kind of cursor is kept and what counts as unread after it. */
interface CursorKind {
  table: 'room_reads' | 'conversation_reads';
  key: 'room' | 'peer_id';
  keyType: 'varchar' | 'int';
  unread: (user: string, key: string, after: string) => string;
}

const ROOM: CursorKind = { table: 'room_reads', key: 'room', keyType: 'varchar', unread: unreadInRoom };
const CONVERSATION: CursorKind = { table: 'conversation_reads', key: 'peer_id', keyType: 'int', unread: unreadFromPeer };

/**
 * Move the cursor ($1 user, $2 key) forward to $3, clamped to the last position of stream $4;
 * created there when absent. Answers a row only when the cursor was created or moved.
 */
const moveSql = ({ table, key, keyType, unread }: CursorKind) => `
WITH moved AS (
  INSERT INTO ${table} AS c (user_id, ${key}, read_position)
  VALUES ($1, $2::${keyType}, LEAST($3::bigint, coalesce((SELECT last_position FROM message_streams WHERE stream = $4), 0)))
  ON CONFLICT (user_id, ${key}) DO UPDATE SET read_position = excluded.read_position, updated_at = now()
  WHERE c.read_position < excluded.read_position
  RETURNING read_position
)
SELECT moved.read_position, ${unread('$1', '$2', 'moved.read_position')} AS unread FROM moved`;

/** The cursor ($1 user, $2 key) as it is. */
const currentSql = ({ table, key, keyType, unread }: CursorKind) => `
SELECT c.read_position, ${unread('$1', 'c.' + key, 'c.read_position')} AS unread
FROM ${table} c WHERE c.user_id = $1 AND c.${key} = $2::${keyType}`;

/** A statement and the name it is prepared under (PostgreSQL plans it once per connection). */
interface Statement {
  text: string;
  name: string;
}

const SQL = {
  room: {
    move: { text: moveSql(ROOM), name: 'parley_read_room' },
    current: { text: currentSql(ROOM), name: 'parley_room_cursor' },
  },
  conversation: {
    move: { text: moveSql(CONVERSATION), name: 'parley_read_conversation' },
    current: { text: currentSql(CONVERSATION), name: 'parley_conversation_cursor' },
  },
};

/**
 * Cursors of rooms just joined, created at the room's last position where absent; in key order,
 * so two batches that share rows lock them in the same order (no deadlock).
 */
const ENSURE_ROOMS = `
INSERT INTO room_reads (user_id, room, read_position)
SELECT k.user_id, k.room, coalesce(s.last_position, 0)
FROM (SELECT DISTINCT user_id, room FROM unnest($1::int[], $2::varchar[]) AS t(user_id, room)) k
LEFT JOIN message_streams s ON s.stream = $3::text || k.room
ORDER BY k.user_id, k.room
ON CONFLICT (user_id, room) DO NOTHING
RETURNING user_id, room, read_position`;

/** The user's rooms ($1), the most recently read or joined first. $2: the rooms' stream prefix. */
const ROOMS = `
SELECT r.room, r.read_position, coalesce(s.last_position, 0) AS position, ${unreadInRoom('$1', 'r.room', 'r.read_position')} AS unread
FROM room_reads r LEFT JOIN message_streams s ON s.stream = $2::text || r.room
WHERE r.user_id = $1
ORDER BY r.updated_at DESC, r.room
LIMIT ${READ_STATE_ROOMS_MAX}`;

/**
 * The user's ($1) conversations, the latest first. The peers come from skipping through two
 * indexes, one probe per distinct peer however many messages there are: (author_id,
 * recipient_id, id) for those the user wrote to, (recipient_id, author_id, recipient_position)
 * for those who wrote to the user (each probe ordered as only its own index is, or the planner
 * may take the other one and filter its way through). Each side's last message with a peer is one more probe; its
 * place in the user's private stream orders them (within one stream, id order is position order).
 */
const CONVERSATIONS = `
WITH RECURSIVE sent(peer) AS (
  SELECT 0
  UNION ALL
  SELECT (SELECT m.recipient_id FROM messages m WHERE m.author_id = $1 AND m.recipient_id > s.peer
          ORDER BY m.recipient_id, m.id LIMIT 1)
  FROM sent s WHERE s.peer IS NOT NULL
),
received(peer) AS (
  SELECT 0
  UNION ALL
  SELECT (SELECT m.author_id FROM messages m WHERE m.recipient_id = $1 AND m.author_id > r.peer
          ORDER BY m.author_id, m.recipient_position LIMIT 1)
  FROM received r WHERE r.peer IS NOT NULL
),
last AS (
  SELECT s.peer, x.id, x.position FROM sent s CROSS JOIN LATERAL (
    SELECT m.id, m.author_position AS position FROM messages m
    WHERE m.author_id = $1 AND m.recipient_id = s.peer ORDER BY m.id DESC LIMIT 1) x
  WHERE s.peer > 0
  UNION ALL
  SELECT r.peer, x.id, x.position FROM received r CROSS JOIN LATERAL (
    SELECT m.id, m.recipient_position AS position FROM messages m
    WHERE m.recipient_id = $1 AND m.author_id = r.peer ORDER BY m.recipient_position DESC LIMIT 1) x
  WHERE r.peer > 0
),
latest AS (
  SELECT peer, id, position FROM (SELECT DISTINCT ON (peer) peer, id, position FROM last ORDER BY peer, position DESC) p
  ORDER BY position DESC LIMIT ${READ_STATE_CONVERSATIONS_MAX}
)
SELECT l.peer, l.position, p.username AS peer_username, p.role::text AS peer_role,
       coalesce(c.read_position, 0) AS read_position,
       ${unreadFromPeer('$1', 'l.peer', 'coalesce(c.read_position, 0)')} AS unread,
       m.id, m.author_id, m.recipient_id, m.client_id, m.text, m.created_at, a.username
FROM latest l
JOIN users p ON p.id = l.peer
JOIN messages m ON m.id = l.id
JOIN users a ON a.id = m.author_id
LEFT JOIN conversation_reads c ON c.user_id = $1 AND c.peer_id = l.peer
ORDER BY l.position DESC`;

interface CursorRow {
  read_position: Id;
  unread: Id;
}

interface RoomRow extends CursorRow {
  room: string;
  position: Id;
}

interface ConversationRow extends CursorRow, Omit<PrivateSqlRow, 'position'> {
  peer: number;
  position: Id;
  peer_username: string;
  peer_role: string;
}

/**
 * Read state (docs/PROTOCOL.md "Read state"): how far each user has read each room (a position
 * in the room's stream) and each conversation (a position in the user's own private stream).
 * Cursors only move forward and never past their stream's last position. Every statement runs
 * prepared: planning the list's took longer than running it.
 */
export class ReadStateRepository {
  constructor(private readonly sql: SqlClient) {}

  /**
   * Cursors for rooms users have joined, at each room's last position, where they have none;
   * one statement for the batch. Per entry, in order: the new cursor's position, or null when
   * the user had one already.
   */
  async ensureRooms(entries: RoomEntry[]): Promise<(number | null)[]> {
    const rows = await this.sql.query<{ user_id: number; room: string; read_position: Id }>(
      ENSURE_ROOMS,
      [entries.map((e) => e.userId), entries.map((e) => e.room), roomStream('')],
      'parley_ensure_room_cursors',
    );
    const created = new Map(rows.map((r) => [`${r.user_id}:${r.room}`, Number(r.read_position)]));
    return entries.map((e) => {
      const key = `${e.userId}:${e.room}`;
      const position = created.get(key);
      // An entry given twice is created once.
      created.delete(key);
      return position ?? null;
    });
  }

  /** Move `userId`'s cursor in `room` forward to `position` (at most the room's last position). */
  readRoom(userId: number, room: string, position: number): Promise<CursorMove> {
    return this.move(SQL.room, [userId, room, position, roomStream(room)]);
  }

  /**
   * Move `userId`'s cursor in the conversation with `peerId` forward to `position` in
   * `userId`'s private stream (at most its last position).
   * @throws ParleyError('not_found') when either user does not exist
   */
  readConversation(userId: number, peerId: number, position: number): Promise<CursorMove> {
    return this.move(SQL.conversation, [userId, peerId, position, privateStream(userId)]);
  }

  /** Drop `userId`'s cursor in `room`; false when there was none. */
  async forgetRoom(userId: number, room: string): Promise<boolean> {
    const rows = await this.sql.query('DELETE FROM room_reads WHERE user_id = $1 AND room = $2 RETURNING room', [userId, room]);
    return rows.length > 0;
  }

  /** `userId`'s rooms and conversations with their cursors and unread counts. */
  async state(userId: number): Promise<ReadState> {
    const [rooms, conversations] = await Promise.all([
      this.sql.query<RoomRow>(ROOMS, [userId, roomStream('')], 'parley_read_state_rooms'),
      this.sql.query<ConversationRow>(CONVERSATIONS, [userId], 'parley_read_state_conversations'),
    ]);
    return {
      rooms: rooms.map((r): RoomReadState => ({
        room: r.room,
        position: Number(r.position),
        readPosition: Number(r.read_position),
        unread: Number(r.unread),
      })),
      conversations: conversations.map((r): ConversationReadState => ({
        user: { id: r.peer, username: r.peer_username, role: r.peer_role as Role },
        position: Number(r.position),
        readPosition: Number(r.read_position),
        unread: Number(r.unread),
        lastMessage: privateMessageFromSql(r, userId),
      })),
    };
  }

  /**
   * One read: the conditional upsert answers only when it created or moved the cursor;
   * otherwise the cursor is at or past `position` and a second statement (a fresh snapshot: another
   * device may just have moved it) reads where. Dropped by 'forgetRoom' in between: tried again.
   */
  private async move(sql: { move: Statement; current: Statement }, params: [number, string | number, number, string]): Promise<CursorMove> {
    const [userId, key] = params;
    for (let attempt = 0; attempt < 2; attempt++) {
      const [moved] = await this.sql.query<CursorRow>(sql.move.text, params, sql.move.name).catch((err: unknown) => {
        if ((err as { code?: unknown }).code !== FOREIGN_KEY_VIOLATION) throw err;
        throw new ParleyError('not_found', 'No such user');
      });
      if (moved) return { readPosition: Number(moved.read_position), unread: Number(moved.unread), moved: true };
      const [current] = await this.sql.query<CursorRow>(sql.current.text, [userId, key], sql.current.name);
      if (current) return { readPosition: Number(current.read_position), unread: Number(current.unread), moved: false };
    }
    throw new ParleyError('unavailable', 'The read cursor changed meanwhile; try again');
  }
}
