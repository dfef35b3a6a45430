import type { Post } from '@parley/protocol';
import type { Prisma } from '../database.ts';
import type { SqlClient } from '../sql.ts';

export interface NewPost {
  title?: string | undefined;
  content: string;
}

export interface PostChanges {
  title?: string | null | undefined;
  content?: string | undefined;
}

interface PostRow {
  id: number;
  title: string | null;
  content: string;
  authorId: number;
  createdAt: Date;
  updatedAt: Date;
}

const postFields = { id: true, title: true, content: true, authorId: true, createdAt: true, updatedAt: true } as const;

function toPost(row: PostRow): Post {
  return {
    id: row.id,
    title: row.title,
    content: row.content,
    authorId: row.authorId,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  };
}

function isMissingRecord(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2025';
}

export class PostRepository {
  constructor(
    private readonly prisma: Prisma,
    private readonly sql: SqlClient,
  ) {}

  /**
   * Insert the post and, when its author has followers, its fan-out job claimed by `nodeId`,
   * in one statement (atomic: a crash right after leaves a job a sweeper will finish).
   * `jobId` is null when nobody follows the author.
   */
  async createWithFanout(authorId: number, post: NewPost, nodeId: string): Promise<{ post: Post; jobId: number | null }> {
    const rows = await this.sql.query<PostRow & { jobId: string | number | bigint | null }>(
      `WITH p AS (
         INSERT INTO posts (title, content, author_id, updated_at) VALUES ($1, $2, $3, now())
         RETURNING id, title, content, author_id, created_at, updated_at
       ), j AS (
         INSERT INTO fanout_jobs (post_id, author_id, claimed_by, claimed_at)
         SELECT p.id, p.author_id, $4, now() FROM p
         WHERE EXISTS (SELECT 1 FROM follows f WHERE f.followee_id = p.author_id)
         RETURNING id, post_id
       )
       SELECT p.id, p.title, p.content, p.author_id AS "authorId", p.created_at AS "createdAt",
              p.updated_at AS "updatedAt", j.id AS "jobId"
       FROM p LEFT JOIN j ON j.post_id = p.id`,
      [post.title ?? null, post.content, authorId, nodeId],
    );
    const row = rows[0];
    if (!row) throw new Error('INSERT … RETURNING gave no row');
    return { post: toPost(row), jobId: row.jobId === null ? null : Number(row.jobId) };
  }

  async findById(id: number): Promise<Post | null> {
    const row = await this.prisma.post.findUnique({ where: { id }, select: postFields });
    return row ? toPost(row) : null;
  }

  /** Newest first, ids below `before` when given. */
  async list(limit: number, before?: number): Promise<Post[]> {
    const rows = await this.prisma.post.findMany({
      where: before === undefined ? {} : { id: { lt: before } },
      orderBy: { id: 'desc' },
      take: limit,
      select: postFields,
    });
    return rows.map(toPost);
  }

  /** Null when the post no longer exists. */
  async update(id: number, changes: PostChanges): Promise<Post | null> {
    try {
      const row = await this.prisma.post.update({
        where: { id },
        data: {
          ...(changes.title === undefined ? {} : { title: changes.title }),
          ...(changes.content === undefined ? {} : { content: changes.content }),
        },
        select: postFields,
      });
      return toPost(row);
    } catch (err) {
      if (isMissingRecord(err)) return null;
      throw err;
    }
  }

  /** False when the post no longer exists. */
  async delete(id: number): Promise<boolean> {
    const { count } = await this.prisma.post.deleteMany({ where: { id } });
    return count > 0;
  }
}
