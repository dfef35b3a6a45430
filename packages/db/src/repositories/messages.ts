import type { ChatMessage, PrivateMessage } from '@parley/protocol';
import type { Prisma } from '../database.ts';
import type { SqlClient } from '../sql.ts';

export interface NewRoomMessage {
  room: string;
  authorId: number;
  text: string;
  createdAt: Date;
  /** The client's id for a message it may send again: one row per (author, clientId). */
  clientId?: string;
}

export interface NewPrivateMessage {
  authorId: number;
  recipientId: number;
  text: string;
  createdAt: Date;
  clientId?: string;
}

/**
 * What storing a message gave it. `position`: its place in its room, or for a private message in
 * its author's private stream; `recipientPosition`: a private message's place in its recipient's
 * private stream (null for a room message). `duplicate`: its (author, clientId) was stored
 * before, and these are that row's.
 */
export interface StoredMessage {
  id: number;
  position: number;
  recipientPosition: number | null;
  duplicate: boolean;
}

/** Where a catch-up resumes: after a message id (the lesson's cursor) or after a position in the stream. */
export type SyncCursor = { sinceId: number } | { sincePosition: number };

/** Stream keys in `message_streams`: a room's messages, and every private message a user sent or received. */
const roomStream = (room: string) => `room:${room}`;
const privateStream = (userId: number) => `user:${userId}`;

const withAuthor = {
  id: true,
  room: true,
  authorId: true,
  text: true,
  createdAt: true,
  roomPosition: true,
  author: { select: { username: true } },
} as const;

interface Row {
  id: bigint;
  room: string | null;
  authorId: number;
  text: string;
  createdAt: Date;
  roomPosition: bigint | null;
  author: { username: string };
}

const privateWithAuthor = { ...withAuthor, recipientId: true, clientId: true, authorPosition: true, recipientPosition: true } as const;
type PrivateRow = Row & {
  recipientId: number | null;
  clientId: string | null;
  authorPosition: bigint | null;
  recipientPosition: bigint | null;
};

/**
 * A private message as `forUser` sees it: `position` is its place in that user's private
 * stream; its author also gets the `clientId` it was sent with (a device tells its own sends).
 */
function toPrivateMessage(row: PrivateRow, forUser: number): PrivateMessage {
  const own = row.authorId === forUser;
  return {
    id: Number(row.id),
    from: row.authorId,
    fromUsername: row.author.username,
    to: row.recipientId ?? 0,
    message: row.text,
    timestamp: row.createdAt.toISOString(),
    position: Number((own ? row.authorPosition : row.recipientPosition) ?? 0),
    ...(own && row.clientId !== null ? { clientId: row.clientId } : {}),
  };
}

function toChatMessage(row: Row): ChatMessage {
  return {
    id: Number(row.id),
    room: row.room ?? '',
    username: row.author.username,
    userId: row.authorId,
    text: row.text,
    timestamp: row.createdAt.toISOString(),
    position: Number(row.roomPosition ?? 0),
  };
}

type Id = string | number | bigint;
const orNull = (value: Id | null) => (value === null ? null : Number(value));

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

/**
 * One statement stores a batch and numbers it (see `insertMany`). `fresh`: the inputs that are
 * not a retry of a stored message, nor of one earlier in the batch. `entries`: the streams each
 * fresh message takes a place in. `bumped` moves each stream's counter once for the batch, in
 * stream order (two batches lock the counters they share in the same order: no deadlock), and
 * holds those row locks until the statement commits, so a stream's positions commit in order
 * and a position is never skipped (a failed statement rolls its counters back).
 *
 * Cost (bench/message-write.ts): it runs as a prepared statement (planning it took longer than
 * running it), and the retry check is a LATERAL look-up per input row: as `NOT EXISTS`, the
 * planner hashed the whole messages table for it while the table was small.
 */
const INSERT_NUMBERED = `
WITH input AS (
  SELECT * FROM unnest($1::varchar[], $2::int[], $3::int[], $4::varchar[], $5::timestamptz[], $6::varchar[], $7::text[], $8::text[])
    WITH ORDINALITY AS t(room, author_id, recipient_id, text, created_at, client_id, own_stream, recipient_stream, n)
),
fresh AS (
  SELECT DISTINCT ON (i.author_id, i.client_id, CASE WHEN i.client_id IS NULL THEN i.n END) i.*
  FROM input i
  LEFT JOIN LATERAL (SELECT true AS stored FROM messages m WHERE m.author_id = i.author_id AND m.client_id = i.client_id LIMIT 1) d ON true
  WHERE d.stored IS NULL
  ORDER BY i.author_id, i.client_id, CASE WHEN i.client_id IS NULL THEN i.n END, i.n
),
entries AS (
  SELECT n, own_stream AS stream, true AS own FROM fresh
  UNION ALL
  SELECT n, recipient_stream, false FROM fresh WHERE recipient_stream IS NOT NULL
),
counts AS (SELECT stream, count(*) AS c FROM entries GROUP BY stream),
bumped AS (
  INSERT INTO message_streams AS s (stream, last_position)
  SELECT stream, c FROM counts ORDER BY stream
  ON CONFLICT (stream) DO UPDATE SET last_position = s.last_position + excluded.last_position
  RETURNING stream, last_position
),
numbered AS (
  SELECT e.n, e.own, b.last_position - c.c + row_number() OVER (PARTITION BY e.stream ORDER BY e.n) AS position
  FROM entries e JOIN counts c USING (stream) JOIN bumped b USING (stream)
)
INSERT INTO messages (room, author_id, recipient_id, text, created_at, client_id, room_position, author_position, recipient_position)
SELECT f.room, f.author_id, f.recipient_id, f.text, f.created_at, f.client_id,
       CASE WHEN f.room IS NOT NULL THEN o.position END,
       CASE WHEN f.room IS NULL THEN o.position END,
       CASE WHEN f.recipient_id = f.author_id THEN o.position ELSE r.position END
FROM fresh f
JOIN numbered o ON o.n = f.n AND o.own
LEFT JOIN numbered r ON r.n = f.n AND NOT r.own
ORDER BY f.n
RETURNING id, author_id, client_id, room_position, author_position, recipient_position`;

interface NumberedRow {
  id: Id;
  author_id: number;
  client_id: string | null;
  room_position: Id | null;
  author_position: Id | null;
  recipient_position: Id | null;
}

function stored(row: NumberedRow, duplicate: boolean): StoredMessage {
  return {
    id: Number(row.id),
    position: Number(row.room_position ?? row.author_position),
    recipientPosition: orNull(row.recipient_position),
    duplicate,
  };
}

export class MessageRepository {
  constructor(
    private readonly prisma: Prisma,
    private readonly sql: SqlClient,
  ) {}

  /**
   * One statement for the whole batch (INSERT_NUMBERED), results in input order: each message
   * gets an id and its positions. Raw SQL with unnest(): measured at 0.014 ms of Node CPU per
   * message in batches of 50, against 0.22 ms through Prisma's createManyAndReturn (see
   * docs/PERFORMANCE.md). A message whose (author, clientId) is already stored (earlier, or
   * earlier in this batch) is not stored again and answers with that row, found by a second
   * query only when there is one. The same clientId stored by another node at the same moment
   * fails the statement on the unique index once that node commits; the statement then runs
   * again and sees that row.
   */
  async insertMany(messages: (NewRoomMessage | NewPrivateMessage)[]): Promise<StoredMessage[]> {
    const params = [
      messages.map((m) => ('room' in m ? m.room : null)),
      messages.map((m) => m.authorId),
      messages.map((m) => ('recipientId' in m ? m.recipientId : null)),
      messages.map((m) => m.text),
      messages.map((m) => m.createdAt.toISOString()),
      messages.map((m) => m.clientId ?? null),
      // The streams each message takes a place in: its room or its author's; its recipient's.
      messages.map((m) => ('room' in m ? roomStream(m.room) : privateStream(m.authorId))),
      messages.map((m) => ('recipientId' in m && m.recipientId !== m.authorId ? privateStream(m.recipientId) : null)),
    ];
    const insert = () => this.sql.query<NumberedRow>(INSERT_NUMBERED, params, 'parley_insert_numbered');
    const inserted = await insert().catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      return insert();
    });
    // Inserted rows come back in input order; the inputs between them were duplicates.
    const results: (StoredMessage | undefined)[] = [];
    let next = 0;
    for (const m of messages) {
      const row = inserted[next];
      if (row && row.author_id === m.authorId && row.client_id === (m.clientId ?? null)) {
        results.push(stored(row, false));
        next++;
      } else {
        results.push(undefined);
      }
    }
    const missing = messages.filter((_, i) => results[i] === undefined);
    if (missing.length === 0) return results as StoredMessage[];
    const existing = await this.sql.query<NumberedRow>(
      `SELECT m.id, m.author_id, m.client_id, m.room_position, m.author_position, m.recipient_position FROM messages m
       JOIN unnest($1::int[], $2::varchar[]) AS k(author_id, client_id) USING (author_id, client_id)`,
      [missing.map((m) => m.authorId), missing.map((m) => m.clientId ?? null)],
    );
    const byKey = new Map(existing.map((r) => [`${r.author_id}:${r.client_id}`, r]));
    return messages.map((m, i) => {
      const fresh = results[i];
      if (fresh) return fresh;
      const row = byKey.get(`${m.authorId}:${m.clientId ?? ''}`);
      // Only a message with a clientId can be skipped, and then its row exists.
      if (row === undefined) throw new Error(`insertMany: no row for author ${m.authorId}, clientId ${m.clientId ?? '(none)'}`);
      return stored(row, true);
    });
  }

  /** The last position given out in `room`; 0 before its first message. */
  roomPosition(room: string): Promise<number> {
    return this.streamPosition(roomStream(room));
  }

  /** The last position given out in `userId`'s private stream; 0 before its first message. */
  privatePosition(userId: number): Promise<number> {
    return this.streamPosition(privateStream(userId));
  }

  private async streamPosition(stream: string): Promise<number> {
    const row = await this.prisma.messageStream.findUnique({ where: { stream }, select: { lastPosition: true } });
    return Number(row?.lastPosition ?? 0);
  }

  /** Room history, newest first, strictly before `before` when given. */
  async history(room: string, limit: number, before?: number): Promise<ChatMessage[]> {
    const rows = await this.prisma.message.findMany({
      where: { room, ...(before === undefined ? {} : { id: { lt: BigInt(before) } }) },
      orderBy: { id: 'desc' },
      take: limit,
      select: withAuthor,
    });
    return rows.map(toChatMessage);
  }

  /**
   * Messages of `room` after the cursor, in position order (reconnect catch-up). Within a room,
   * id order is position order: a batch takes its ids after it holds the room's counter.
   */
  async since(room: string, cursor: SyncCursor, limit: number): Promise<ChatMessage[]> {
    const rows = await this.prisma.message.findMany({
      where: {
        room,
        ...('sinceId' in cursor ? { id: { gt: BigInt(cursor.sinceId) } } : { roomPosition: { gt: BigInt(cursor.sincePosition) } }),
      },
      orderBy: { roomPosition: 'asc' },
      take: limit,
      select: withAuthor,
    });
    return rows.map(toChatMessage);
  }

  /** Private messages between `a` and `b` (both directions), newest first, strictly before `before` when given; positions are `a`'s. */
  async conversation(a: number, b: number, limit: number, before?: number): Promise<PrivateMessage[]> {
    const rows = await this.prisma.message.findMany({
      where: {
        OR: [
          { authorId: a, recipientId: b },
          { authorId: b, recipientId: a },
        ],
        ...(before === undefined ? {} : { id: { lt: BigInt(before) } }),
      },
      orderBy: { id: 'desc' },
      take: limit,
      select: privateWithAuthor,
    });
    return rows.map((row) => toPrivateMessage(row, a));
  }

  /**
   * `userId`'s private messages, received or sent, after the cursor, oldest first (catch-up).
   * After a position: in the order of the user's private stream, from the two indexes that hold
   * it (what the user sent, what the user received).
   */
  async privateSince(userId: number, cursor: SyncCursor, limit: number): Promise<PrivateMessage[]> {
    if ('sinceId' in cursor) {
      const rows = await this.prisma.message.findMany({
        where: {
          OR: [{ recipientId: userId }, { authorId: userId, recipientId: { not: null } }],
          id: { gt: BigInt(cursor.sinceId) },
        },
        orderBy: { id: 'asc' },
        take: limit,
        select: privateWithAuthor,
      });
      return rows.map((row) => toPrivateMessage(row, userId));
    }
    const rows = await this.sql.query<{
      id: Id;
      author_id: number;
      recipient_id: number;
      client_id: string | null;
      text: string;
      created_at: Date;
      username: string;
      position: Id;
    }>(
      `SELECT m.id, m.author_id, m.recipient_id, m.client_id, m.text, m.created_at, u.username, p.position FROM (
         (SELECT id, author_position AS position FROM messages
          WHERE author_id = $1 AND author_position > $2 ORDER BY author_position LIMIT $3)
         UNION ALL
         (SELECT id, recipient_position FROM messages
          WHERE recipient_id = $1 AND author_id <> $1 AND recipient_position > $2 ORDER BY recipient_position LIMIT $3)
       ) p JOIN messages m USING (id) JOIN users u ON u.id = m.author_id
       ORDER BY p.position LIMIT $3`,
      [userId, cursor.sincePosition, limit],
    );
    return rows.map((r) =>
      toPrivateMessage(
        {
          id: BigInt(r.id),
          room: null,
          authorId: r.author_id,
          recipientId: r.recipient_id,
          clientId: r.client_id,
          text: r.text,
          createdAt: new Date(r.created_at),
          roomPosition: null,
          authorPosition: BigInt(r.position),
          recipientPosition: BigInt(r.position),
          author: { username: r.username },
        },
        userId,
      ),
    );
  }
}
