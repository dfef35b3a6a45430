import type { PublicUser } from '@parley/protocol';
import type { Prisma } from '../database.ts';
import type { SqlClient } from '../sql.ts';
import { publicFields } from './users.ts';

export class FollowRepository {
  constructor(
    private readonly prisma: Prisma,
    private readonly sql: SqlClient,
  ) {}

  /** Idempotent. False when `followeeId` does not exist (one round trip either way). */
  async follow(followerId: number, followeeId: number): Promise<boolean> {
    const rows = await this.sql.query<{ found: boolean }>(
      `WITH target AS (SELECT id FROM users WHERE id = $2),
       ins AS (
         INSERT INTO follows (follower_id, followee_id) SELECT $1, id FROM target
         ON CONFLICT DO NOTHING
       )
       SELECT EXISTS (SELECT 1 FROM target) AS found`,
      [followerId, followeeId],
    );
    return rows[0]?.found === true;
  }

  /** Idempotent. False when `followeeId` does not exist. */
  async unfollow(followerId: number, followeeId: number): Promise<boolean> {
    const rows = await this.sql.query<{ found: boolean }>(
      `WITH del AS (DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2)
       SELECT EXISTS (SELECT 1 FROM users WHERE id = $2) AS found`,
      [followerId, followeeId],
    );
    return rows[0]?.found === true;
  }

  /** Users following `userId`, by ascending id after `after`; null when `userId` does not exist. */
  followers(userId: number, limit: number, after = 0): Promise<PublicUser[] | null> {
    return this.page(userId, limit, after, 'followers');
  }

  /** Users `userId` follows, by ascending id after `after`; null when `userId` does not exist. */
  following(userId: number, limit: number, after = 0): Promise<PublicUser[] | null> {
    return this.page(userId, limit, after, 'following');
  }

  private async page(userId: number, limit: number, after: number, side: 'followers' | 'following'): Promise<PublicUser[] | null> {
    const users = await this.prisma.user.findMany({
      where: {
        id: { gt: after },
        ...(side === 'followers' ? { following: { some: { followeeId: userId } } } : { followers: { some: { followerId: userId } } }),
      },
      orderBy: { id: 'asc' },
      take: limit,
      select: publicFields,
    });
    // A follow row references both users, so a non-empty page proves the user exists.
    if (users.length > 0) return users;
    return (await this.prisma.user.count({ where: { id: userId } })) > 0 ? users : null;
  }
}
