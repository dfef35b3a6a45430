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

/** The id a message got; `duplicate`: its (author, clientId) was stored before, this is that row's id. */
export interface StoredMessage {
  id: number;
  duplicate: boolean;
}

const withAuthor = {
  id: true,
  room: true,
  authorId: true,
  text: true,
  createdAt: true,
  author: { select: { username: true } },
} as const;

interface Row {
  id: bigint;
  room: string | null;
  authorId: number;
  text: string;
  createdAt: Date;
  author: { username: string };
}

const privateWithAuthor = { ...withAuthor, recipientId: true } as const;

function toPrivateMessage(row: Row & { recipientId: number | null }): PrivateMessage {
  return {
    id: Number(row.id),
    from: row.authorId,
    fromUsername: row.author.username,
    to: row.recipientId ?? 0,
    message: row.text,
    timestamp: row.createdAt.toISOString(),
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
  };
}

export class MessageRepository {
  constructor(
    private readonly prisma: Prisma,
    private readonly sql: SqlClient,
  ) {}

  /**
   * One INSERT … RETURNING for the whole batch, results in input order. Raw SQL with unnest():
   * measured at 0.014 ms of Node CPU per message in batches of 50, against 0.22 ms through
   * Prisma's createManyAndReturn (see docs/PERFORMANCE.md). A message whose (author, clientId)
   * is already stored (earlier, or earlier in this batch) is skipped and answered with that
   * row's id, found by a second query only when there is one.
   */
  async insertMany(messages: (NewRoomMessage | NewPrivateMessage)[]): Promise<StoredMessage[]> {
    const inserted = await this.sql.query<{ id: string | number | bigint; author_id: number; client_id: string | null }>(
      `INSERT INTO messages (room, author_id, recipient_id, text, created_at, client_id)
       SELECT room, author_id, recipient_id, text, created_at, client_id
       FROM unnest($1::varchar[], $2::int[], $3::int[], $4::varchar[], $5::timestamptz[], $6::varchar[])
         WITH ORDINALITY AS t(room, author_id, recipient_id, text, created_at, client_id, n)
       ORDER BY n
       ON CONFLICT (author_id, client_id) DO NOTHING
       RETURNING id, author_id, client_id`,
      [
        messages.map((m) => ('room' in m ? m.room : null)),
        messages.map((m) => m.authorId),
        messages.map((m) => ('recipientId' in m ? m.recipientId : null)),
        messages.map((m) => m.text),
        messages.map((m) => m.createdAt.toISOString()),
        messages.map((m) => m.clientId ?? null),
      ],
    );
    // Inserted rows come back in input order; the inputs between them were duplicates.
    const results: (StoredMessage | undefined)[] = [];
    let next = 0;
    for (const m of messages) {
      const row = inserted[next];
      if (row && row.author_id === m.authorId && row.client_id === (m.clientId ?? null)) {
        results.push({ id: Number(row.id), duplicate: false });
        next++;
      } else {
        results.push(undefined);
      }
    }
    const missing = messages.filter((_, i) => results[i] === undefined);
    if (missing.length === 0) return results as StoredMessage[];
    const existing = await this.sql.query<{ id: string | number | bigint; author_id: number; client_id: string }>(
      `SELECT m.id, m.author_id, m.client_id FROM messages m
       JOIN unnest($1::int[], $2::varchar[]) AS k(author_id, client_id) USING (author_id, client_id)`,
      [missing.map((m) => m.authorId), missing.map((m) => m.clientId ?? null)],
    );
    const byKey = new Map(existing.map((r) => [`${r.author_id}:${r.client_id}`, Number(r.id)]));
    return messages.map((m, i) => {
      const stored = results[i];
      if (stored) return stored;
      const id = byKey.get(`${m.authorId}:${m.clientId ?? ''}`);
      // Only a message with a clientId can be skipped, and then its row exists.
      if (id === undefined) throw new Error(`insertMany: no row for author ${m.authorId}, clientId ${m.clientId ?? '(none)'}`);
      return { id, duplicate: true };
    });
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

  /** Messages of `room` after `sinceId`, oldest first (reconnect catch-up). */
  async since(room: string, sinceId: number, limit: number): Promise<ChatMessage[]> {
    const rows = await this.prisma.message.findMany({
      where: { room, id: { gt: BigInt(sinceId) } },
      orderBy: { id: 'asc' },
      take: limit,
      select: withAuthor,
    });
    return rows.map(toChatMessage);
  }

  /** Private messages between `a` and `b` (both directions), newest first, strictly before `before` when given. */
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
    return rows.map(toPrivateMessage);
  }

  /** `userId`'s private messages, received or sent, after `sinceId`, oldest first (catch-up). */
  async privateSince(userId: number, sinceId: number, limit: number): Promise<PrivateMessage[]> {
    const rows = await this.prisma.message.findMany({
      where: {
        OR: [{ recipientId: userId }, { authorId: userId, recipientId: { not: null } }],
        id: { gt: BigInt(sinceId) },
      },
      orderBy: { id: 'asc' },
      take: limit,
      select: privateWithAuthor,
    });
    return rows.map(toPrivateMessage);
  }
}
