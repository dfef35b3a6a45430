import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqlClient } from './sql.ts';

/** Arbitrary constant: every node migrating at once serialises on this advisory lock. */
const MIGRATION_LOCK_KEY = 72_707_369;

const BOOKKEEPING_DDL = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
  /** Applied migrations whose file changed since (Prisma warns about these too). */
  modified: string[];
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Migrations in Prisma's layout: `<dir>/<timestamp>_<name>/migration.sql`, in name order. */
export async function readMigrations(dir: string): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Apply pending migrations with the same `_prisma_migrations` bookkeeping as
 * `prisma migrate deploy`, so either tool can take over. Each migration runs in a
 * transaction; concurrent callers (several nodes starting) wait on an advisory lock.
 */
export async function migrate(sql: SqlClient, migrations: Migration[]): Promise<MigrationReport> {
  return sql.session(async (s) => {
    await s.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await s.exec(BOOKKEEPING_DDL);
      const rows = await s.query<AppliedRow>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
      const failed = rows.find((r) => r.finished_at === null && r.rolled_back_at === null);
      if (failed) {
        throw new MigrationError(`Migration ${failed.migration_name} failed earlier; resolve it (prisma migrate resolve) before starting`);
      }
      const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r]));
      const report: MigrationReport = { applied: [], alreadyApplied: [], modified: [] };
      for (const m of migrations) {
        const previous = done.get(m.name);
        if (previous) {
          report.alreadyApplied.push(m.name);
          if (previous.checksum !== m.checksum) report.modified.push(m.name);
          continue;
        }
        await s.exec('BEGIN');
        try {
          await s.exec(m.sql);
          await s.query(
            `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at, applied_steps_count)
             VALUES ($1, $2, $3, now(), 1)`,
            [randomUUID(), m.checksum, m.name],
          );
          await s.exec('COMMIT');
        } catch (err) {
          await s.exec('ROLLBACK');
          throw new MigrationError(`Migration ${m.name} failed: ${(err as Error).message}`);
        }
        report.applied.push(m.name);
      }
      return report;
    } finally {
      await s.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  });
}
