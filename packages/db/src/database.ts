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

export interface DatabaseOptions {
  /** PostgreSQL URL; unset = embedded PGlite under `dataDir`. */
  url: string | undefined;
  poolSize: number;
  dataDir: string;
  /**
   * Bounds of every wait on PostgreSQL (not on PGlite, which runs in this process and has no
   * connection to lose): a connection, new or a free one of the pool (`connectionTimeoutMillis`);
   * a statement, cancelled by the server (`statement_timeout`); a query's answer, given up by the
   * client when the server does not answer at all (`query_timeout`). Migrations are not bounded.
   * @default unbounded
   */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  queryTimeoutMs?: number;
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
    const url = options.url;
    // Bounded waits: a server that is unreachable or stopped answering fails a request (503)
    // instead of hanging it, and a connection whose query timed out is dropped by the pool.
    const pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      query_timeout: options.queryTimeoutMs,
    });
    pool.on('error', (err) => options.onIdleError?.(err));
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    // Migrations may rightly run for minutes (an index on a big table): one unbounded connection.
    const migrateOver = async (run: (sql: SqlClient) => Promise<MigrationReport>) => {
      const migrationPool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: options.connectTimeoutMs });
      try {
        return await run(pgSqlClient(migrationPool));
      } finally {
        await migrationPool.end();
      }
    };
    return assemble('postgres', prisma, pgSqlClient(pool), migrateOver, async () => {
      await prisma.$disconnect();
      await pool.end();
    });
  }
  await mkdir(options.dataDir, { recursive: true });
  const lite = await PGlite.create(options.dataDir);
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(lite) });
  const sql = pgliteSqlClient(lite);
  return assemble(
    'embedded',
    prisma,
    sql,
    (run) => run(sql),
    async () => {
      await prisma.$disconnect();
      await lite.close();
    },
  );
}

function assemble(
  kind: Database['kind'],
  prisma: Prisma,
  sql: SqlClient,
  migrateOver: (run: (sql: SqlClient) => Promise<MigrationReport>) => Promise<MigrationReport>,
  close: () => Promise<void>,
): Database {
  let closing: Promise<void> | undefined;
  return {
    kind,
    prisma,
    sql,
    migrate: async () => {
      const migrations = await readMigrations(MIGRATIONS_DIR);
      return migrateOver((over) => migrate(over, migrations));
    },
    ping: async () => {
      await sql.query('SELECT 1');
    },
    close: () => (closing ??= close()),
  };
}
