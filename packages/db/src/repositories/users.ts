import { ParleyError, type PublicUser, type Role } from '@parley/protocol';
import type { Prisma } from '../database.ts';

export interface UserRecord extends PublicUser {
  passwordHash: string;
}

/** The columns of a PublicUser. */
export const publicFields = { id: true, username: true, role: true } as const;

export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}

export class UserRepository {
  constructor(private readonly prisma: Prisma) {}

  /** @throws ParleyError('username_taken') */
  async create(username: string, passwordHash: string, role: Role = 'user'): Promise<PublicUser> {
    try {
      return await this.prisma.user.create({ data: { username, passwordHash, role }, select: publicFields });
    } catch (err) {
      if (isUniqueViolation(err)) throw new ParleyError('username_taken');
      throw err;
    }
  }

  findByUsername(username: string): Promise<UserRecord | null> {
    return this.prisma.user.findUnique({
      where: { username },
      select: { ...publicFields, passwordHash: true },
    });
  }

  /** One query for many ids; the result has one entry per id, in order (null: no such user). */
  async findByIds(ids: number[]): Promise<(PublicUser | null)[]> {
    const found = await this.prisma.user.findMany({ where: { id: { in: ids } }, select: publicFields });
    const byId = new Map(found.map((u) => [u.id, u]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /**
   * Admin bootstrap, in one statement (nodes starting together agree): create the admin, or
   * reset the password of an existing admin. Null when the name belongs to an account that is
   * not an admin: it is never promoted.
   */
  async createOrResetAdmin(username: string, passwordHash: string): Promise<PublicUser | null> {
    const rows = await this.prisma.$queryRaw<PublicUser[]>`
      INSERT INTO "users" ("username", "password_hash", "role") VALUES (${username}, ${passwordHash}, 'admin'::"Role")
      ON CONFLICT ("username") DO UPDATE SET "password_hash" = EXCLUDED."password_hash" WHERE "users"."role" = 'admin'
      RETURNING "id", "username", "role"::text AS "role"`;
    return rows[0] ?? null;
  }
}
