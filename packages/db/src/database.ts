import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from './generated/client.ts';
import { migrate, readMigrations, type MigrationReport } from './migrator.ts';
import { pgliteSqlClient, pgSqlClient, type SqlClient } from './sql.ts';

export type Prisma = InstanceType<typeof PrismaClient>;

/** prisma/migrations at the repository root. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));

/** Longest a new PostgreSQL connection may take to open. */
const CONNECT_TIMEOUT_MS = 5000;

export interface DatabaseOptions {
  /** PostgreSQL URL; unset = embedded PGlite under `dataDir`. */
  url: string | undefined;
  poolSize: number;
  dataDir: string;
  /**
   * Told when an idle pooled connection fails (its server went away); pg drops it and opens
   * another when needed. Without it the error would crash the process. @default ignore
   */
  onIdleError?: (err: Error) => void;
}

export interface Database {
  kind: 'postgres' | 'embedded';
  prisma: Prisma;
  sql: SqlClient;
  migrate(): Promise<MigrationReport>;
  /** Cheap round trip for readiness checks. */
  ping(): Promise<void>;
  /** Idempotent: later calls return the first call's promise. */
  close(): Promise<void>;
}

/**
 * Open PostgreSQL (DATABASE_URL) or the embedded PGlite database, with the same Prisma
 * client above either. Nothing is migrated until `migrate()` is called.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    // A bounded connect: an unreachable server fails a request (503) instead of hanging it.
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    pool.on('error', (err) => options.onIdleError?.(err));
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    const sql = pgSqlClient(pool);
    return assemble('postgres', prisma, sql, async () => {
      await prisma.$disconnect();
      await pool.end();
    });
  }
  await mkdir(options.dataDir, { recursive: true });
  const lite = await PGlite.create(options.dataDir);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(lite) });
  return assemble('embedded', prisma, pgliteSqlClient(lite), async () => {
    await prisma.$disconnect();
    await lite.close();
  });
}

function assemble(kind: Database['kind'], prisma: Prisma, sql: SqlClient, close: () => Promise<void>): Database {
  let closing: Promise<void> | undefined;
  return {
    kind,
    prisma,
    sql,
    migrate: async () => migrate(sql, await readMigrations(MIGRATIONS_DIR)),
    ping: async () => {
      await sql.query('SELECT 1');
    },
    close: () => (closing ??= close()),
  };
}
