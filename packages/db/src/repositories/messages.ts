import type { ChatMessage } from '@parley/protocol';
import type { Prisma } from '../database.ts';

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
  constructor(private readonly prisma: Prisma) {}

  /** One INSERT … RETURNING for the whole batch; ids come back in input order. */
  async insertMany(messages: (NewRoomMessage | NewPrivateMessage)[]): Promise<number[]> {
    const rows = await this.prisma.message.createManyAndReturn({ data: messages, select: { id: true } });
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
}
