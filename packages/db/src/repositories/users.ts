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

  /** Create the account or reset its password and role (admin bootstrap). */
  upsert(username: string, passwordHash: string, role: Role): Promise<PublicUser> {
    return this.prisma.user.upsert({
      where: { username },
      create: { username, passwordHash, role },
      update: { passwordHash, role },
      select: publicFields,
    });
  }
}
