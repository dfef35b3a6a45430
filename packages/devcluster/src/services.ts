import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export interface TestServices {
  postgresUrl: string;
  redisUrl: string;
  source: 'env' | 'testcontainers' | 'local';
  stop(): Promise<void>;
}

const LOCAL_POSTGRES = 'postgresql://root@127.0.0.1:5432/postgres';
const LOCAL_REDIS = 'redis://127.0.0.1:6379';

async function dockerAvailable(): Promise<boolean> {
  try {
    await promisify(execFile)('docker', ['info'], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * PostgreSQL and Redis for a test run: DATABASE_URL / REDIS_URL when set; otherwise
 * containers (testcontainers) where a Docker engine runs; otherwise the local services.
 * DATABASE_URL names a server the tests may create databases on (each test file gets its own).
 */
export async function provideServices(env: NodeJS.ProcessEnv = process.env): Promise<TestServices> {
  if (env.DATABASE_URL && env.REDIS_URL) {
    return { postgresUrl: env.DATABASE_URL, redisUrl: env.REDIS_URL, source: 'env', stop: async () => {} };
  }
  if (!env.DATABASE_URL && !env.REDIS_URL && (await dockerAvailable())) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const { RedisContainer } = await import('@testcontainers/redis');
    const [pg, redis] = await Promise.all([
      new PostgreSqlContainer('postgres:16-alpine').start(),
      new RedisContainer('redis:7-alpine').start(),
    ]);
    return {
      postgresUrl: pg.getConnectionUri(),
      redisUrl: redis.getConnectionUrl(),
      source: 'testcontainers',
      stop: async () => {
        await Promise.all([pg.stop(), redis.stop()]);
      },
    };
  }
  return {
    postgresUrl: env.DATABASE_URL ?? LOCAL_POSTGRES,
    redisUrl: env.REDIS_URL ?? LOCAL_REDIS,
    source: 'local',
    stop: async () => {},
  };
}
