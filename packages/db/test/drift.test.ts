import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@parley/testkit';
import { openDatabase } from '../src/index.ts';

/**
 * Drift check: the database that prisma/migrations produce must be the one schema.prisma
 * describes. Prisma 6.19's WASM schema engine turns schema.prisma into SQL (migrate diff
 * --from-empty); that SQL goes into one fresh database, the migrations (through our migrator)
 * into another, and the two catalogs must match: tables, columns, types, defaults, nullability,
 * constraints, indexes and enums.
 */

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const schemaPath = fileURLToPath(new URL('../../../prisma/schema.prisma', import.meta.url));
const prisma6Cli = createRequire(import.meta.url).resolve('prisma6/build/index.js');

/** schema.prisma as Prisma 6 wants it: the datasource url moved to prisma.config in 7, 6 requires it inline. */
async function schemaForPrisma6(dir: string): Promise<string> {
  const schema = await readFile(schemaPath, 'utf8');
  const datasource = /datasource db \{\n(\s*)provider\s*=\s*"postgresql"\n/;
  expect(schema, 'schema.prisma has the expected datasource block').toMatch(datasource);
  const path = join(dir, 'schema.prisma');
  await writeFile(
    path,
    schema.replace(datasource, (block, indent: string) => `${block}${indent}url = env("DATABASE_URL")\n`),
  );
  return path;
}

async function sqlFromSchema(schemaFile: string, databaseUrl: string): Promise<string> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [prisma6Cli, 'migrate', 'diff', '--config', 'prisma6.config.ts', '--from-empty', '--to-schema-datamodel', schemaFile, '--script'],
    {
      cwd: packageDir,
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        CHECKPOINT_DISABLE: '1',
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
        // The CLI insists on locating native engines it never runs with engine "js".
        PRISMA_SCHEMA_ENGINE_BINARY: process.execPath,
        PRISMA_QUERY_ENGINE_LIBRARY: process.execPath,
      },
      timeout: 60_000,
    },
  );
  expect(stdout).toContain('CREATE TABLE');
  return stdout;
}

/** What a migration can change, in a stable order; Prisma's own bookkeeping table aside. */
async function catalog(db: TestDatabase): Promise<{ columns: unknown[]; constraints: unknown[]; indexes: unknown[]; enums: unknown[] }> {
  const notBookkeeping = `NOT IN ('_prisma_migrations')`;
  return {
    columns: await db.query(`
      SELECT table_name, column_name, data_type, udt_name, character_maximum_length, numeric_precision,
             datetime_precision, is_nullable, column_default
      FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name ${notBookkeeping}
      ORDER BY table_name, column_name`),
    constraints: await db.query(`
      SELECT conrelid::regclass::text AS table_name, conname, contype, pg_get_constraintdef(oid) AS definition
      FROM pg_constraint
      WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text ${notBookkeeping}
      ORDER BY 1, 2`),
    indexes: await db.query(`
      SELECT tablename, indexname, indexdef FROM pg_indexes
      WHERE schemaname = 'public' AND tablename ${notBookkeeping}
      ORDER BY tablename, indexname`),
    enums: await db.query(`
      SELECT t.typname, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
      WHERE t.typnamespace = 'public'::regnamespace
      GROUP BY t.typname ORDER BY t.typname`),
  };
}

let fromSchema: TestDatabase;
let fromMigrations: TestDatabase;
let tmp: string;
beforeAll(async () => {
  [fromSchema, fromMigrations] = await Promise.all([createTestDatabase(inject('postgresUrl')), createTestDatabase(inject('postgresUrl'))]);
  tmp = await mkdtemp(join(tmpdir(), 'parley-drift-'));
});
afterAll(async () => {
  await Promise.all([fromSchema?.drop(), fromMigrations?.drop()]);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('prisma/migrations and prisma/schema.prisma', () => {
  it('produce the same database', async () => {
    const sql = await sqlFromSchema(await schemaForPrisma6(tmp), fromSchema.url);
    await fromSchema.query(sql);

    const db = await openDatabase({ url: fromMigrations.url, poolSize: 2, dataDir: tmp });
    try {
      await db.migrate();
    } finally {
      await db.close();
    }

    const [expected, actual] = await Promise.all([catalog(fromSchema), catalog(fromMigrations)]);
    expect(expected.columns.length).toBeGreaterThan(0);
    expect(actual).toEqual(expected);
  });
});
