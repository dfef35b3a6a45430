import { ParleyError, type PublicUser, type Role } from '@parley/protocol';
import type { Prisma } from '../database.ts';

export interface UserRecord extends PublicUser {
  passwordHash: string;
  tokenVersion: number;
}

/** A user and the version its tokens must carry (raised by a password or role change). */
export interface Account {
  user: PublicUser;
  tokenVersion: number;
}

/** The columns of a PublicUser. */
export const publicFields = { id: true, username: true, role: true } as const;

function toAccount({ tokenVersion, ...user }: PublicUser & { tokenVersion: number }): Account {
  return { user, tokenVersion };
}

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
      select: { ...publicFields, passwordHash: true, tokenVersion: true },
    });
  }

  /** One query for many ids; the result has one entry per id, in order (null: no such user). */
  async findByIds(ids: number[]): Promise<(Account | null)[]> {
    const found = await this.prisma.user.findMany({ where: { id: { in: ids } }, select: { ...publicFields, tokenVersion: true } });
    const byId = new Map(found.map((u) => [u.id, toAccount(u)]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** Set a new password hash and raise the token version (every older token is revoked). Null: no such user. */
  async changePassword(id: number, passwordHash: string): Promise<Account | null> {
    const rows = await this.prisma.user.updateManyAndReturn({
      where: { id },
      data: { passwordHash, tokenVersion: { increment: 1 } },
      select: { ...publicFields, tokenVersion: true },
    });
    return rows[0] ? toAccount(rows[0]) : null;
  }

  /**
   * Give `username` the role `role`, raising the token version when it changes (`changed`:
   * the tokens signed under the old role are revoked). Null: no such user.
   */
  async setRole(username: string, role: Role): Promise<{ account: Account; changed: boolean } | null> {
    const select = { ...publicFields, tokenVersion: true };
    const [updated] = await this.prisma.user.updateManyAndReturn({
      where: { username, role: { not: role } },
      data: { role, tokenVersion: { increment: 1 } },
      select,
    });
    if (updated) return { account: toAccount(updated), changed: true };
    const unchanged = await this.prisma.user.findUnique({ where: { username }, select });
    return unchanged ? { account: toAccount(unchanged), changed: false } : null;
  }

  /** Delete the account (its messages, posts, follows and notifications go with it). False: no such user. */
  async delete(id: number): Promise<boolean> {
    const { count } = await this.prisma.user.deleteMany({ where: { id } });
    return count === 1;
  }

  /**
   * Admin bootstrap, in one statement (nodes starting together agree): create the admin, or
   * reset the password of an existing admin (raising its token version, as any password change
   * does). Null when the name belongs to an account that is not an admin: it is never promoted.
   */
  async createOrResetAdmin(username: string, passwordHash: string): Promise<PublicUser | null> {
    const rows = await this.prisma.$queryRaw<PublicUser[]>`
      INSERT INTO "users" ("username", "password_hash", "role") VALUES (${username}, ${passwordHash}, 'admin'::"Role")
      ON CONFLICT ("username") DO UPDATE SET "password_hash" = EXCLUDED."password_hash", "token_version" = "users"."token_version" + 1
        WHERE "users"."role" = 'admin'
      RETURNING "id", "username", "role"::text AS "role"`;
    return rows[0] ?? null;
  }
}
