import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface TestDatabase {
  url: string;
  name: string;
  /** One statement on this database, on a connection of its own. */
  query<T extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Run `sql` (e.g. `LOCK TABLE messages IN ACCESS EXCLUSIVE MODE`) in a transaction left open
   * until the returned `release()` commits it: holds a lock for as long as a test needs.
   */
  hold(sql: string): Promise<() => Promise<void>>;
  drop(): Promise<void>;
}

async function queryOnce<T extends object>(url: string, sql: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the server at `serverUrl`, dropped by `drop()`. */
export async function createTestDatabase(serverUrl: string, prefix = 'parley_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await queryOnce(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    query: (sql, params) => queryOnce(url.toString(), sql, params),
    hold: async (sql) => {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      try {
        await client.query('BEGIN');
        await client.query(sql);
      } catch (err) {
        await client.end();
        throw err;
      }
      return async () => {
        try {
          await client.query('COMMIT');
        } finally {
          await client.end();
        }
      };
    },
    drop: async () => {
      await queryOnce(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}
