import type { ChatMessage, PrivateMessage } from '@parley/protocol';
import type { Prisma } from '../database.ts';
import type { SqlClient } from '../sql.ts';

export interface NewRoomMessage {
  room: string;
  authorId: number;
  text: string;
  createdAt: Date;
}

export interface NewPrivateMessage {
  authorId: number;
  recipientId: number;
  text: string;
  createdAt: Date;
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
   * One INSERT … RETURNING for the whole batch, ids in input order. Raw SQL with unnest():
   * measured at 0.014 ms of Node CPU per message in batches of 50, against 0.22 ms through
   * Prisma's createManyAndReturn (see docs/PERFORMANCE.md).
   */
  async insertMany(messages: (NewRoomMessage | NewPrivateMessage)[]): Promise<number[]> {
    const rows = await this.sql.query<{ id: string | number | bigint }>(
      `INSERT INTO messages (room, author_id, recipient_id, text, created_at)
       SELECT room, author_id, recipient_id, text, created_at
       FROM unnest($1::varchar[], $2::int[], $3::int[], $4::varchar[], $5::timestamptz[])
         WITH ORDINALITY AS t(room, author_id, recipient_id, text, created_at, n)
       ORDER BY n
       RETURNING id`,
      [
        messages.map((m) => ('room' in m ? m.room : null)),
        messages.map((m) => m.authorId),
        messages.map((m) => ('recipientId' in m ? m.recipientId : null)),
        messages.map((m) => m.text),
        messages.map((m) => m.createdAt.toISOString()),
      ],
    );
    return rows.map((r) => Number(r.id));
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
