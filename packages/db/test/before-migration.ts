import { expect } from 'vitest';
import type { TestDatabase } from '@parley/testkit';
import { MIGRATIONS_DIR, migrate, openDatabase, readMigrations, type Database, type MigrationReport } from '../src/index.ts';

/**
 * `target` migrated up to, not including, the migration whose name ends with `suffix`, with two
 * users ('ma', 'mb'): store rows the way the code before it did, then `finish()` applies the rest.
 * For tests of what a migration does to the rows it finds. Close `db` afterwards.
 */
export async function beforeMigration(
  target: TestDatabase,
  suffix: string,
  dataDir: string,
): Promise<{ db: Database; users: [number, number]; finish: () => Promise<MigrationReport> }> {
  const migrations = await readMigrations(MIGRATIONS_DIR);
  const at = migrations.findIndex((m) => m.name.endsWith(suffix));
  expect(at, `a migration named *${suffix}`).toBeGreaterThan(0);
  const db = await openDatabase({ url: target.url, poolSize: 2, dataDir });
  try {
    await migrate(db.sql, migrations.slice(0, at));
    const [a, b] = await target.query<{ id: number }>(
      `INSERT INTO users (username, password_hash) VALUES ('ma', 'x'), ('mb', 'x') RETURNING id`,
    );
    return { db, users: [a!.id, b!.id], finish: () => migrate(db.sql, migrations) };
  } catch (err) {
    await db.close();
    throw err;
  }
}
