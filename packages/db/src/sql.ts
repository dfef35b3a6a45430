import type { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';

/** One connection's worth of raw SQL: parameterised queries and multi-statement scripts. */
export interface SqlSession {
  /**
   * `name`: run it as a named prepared statement (PostgreSQL parses and plans it once per
   * connection, not at every call), for a hot statement whose text never changes.
   */
  query<T extends object>(text: string, params?: unknown[], name?: string): Promise<T[]>;
  exec(script: string): Promise<void>;
}

/** Raw SQL beside Prisma, for the migrator and the few statements Prisma cannot express. */
export interface SqlClient extends SqlSession {
  /** Run `fn` on one dedicated connection (advisory locks, transactions). */
  session<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
}

function pgSession(client: pg.ClientBase | pg.Pool): SqlSession {
  return {
    async query<T extends object>(text: string, params?: unknown[], name?: string) {
      const result = await client.query(name === undefined ? { text, values: params } : { name, text, values: params });
      return result.rows as T[];
    },
    async exec(script: string) {
      await client.query(script);
    },
  };
}

export function pgSqlClient(pool: pg.Pool): SqlClient {
  return {
    ...pgSession(pool),
    async session(fn) {
      const client = await pool.connect();
      try {
        return await fn(pgSession(client));
      } finally {
        client.release();
      }
    },
  };
}

export function pgliteSqlClient(db: PGlite): SqlClient {
  const session: SqlSession = {
    // PGlite prepares every statement it runs over its one connection: no name needed.
    async query<T extends object>(text: string, params?: unknown[]) {
      const result = await db.query<T>(text, params);
      return result.rows;
    },
    async exec(script: string) {
      await db.exec(script);
    },
  };
  // PGlite is a single connection: a session is the database itself.
  return { ...session, session: (fn) => fn(session) };
}
