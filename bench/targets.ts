import { fileURLToPath } from 'node:url';
import type { LoadOptions } from '@parley/loadgen';
import { listeningLine, parleyListeningLine, startProcess, type ServerProcess } from './processes.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSX = ['--import', 'tsx'];

/** Services a target may use: the run's private Redis and a fresh PostgreSQL database. */
export interface BenchServices {
  redisUrl: string;
  redis: ServerProcess;
  databaseUrl: string;
  databaseName: string;
}

/** A started system under test, and how the load tool reaches and measures it. */
export interface RunningTarget {
  /** Load options this target needs (targets, protocol, auth, watched processes). */
  load: Partial<LoadOptions>;
  /** Caveat printed with the results. */
  note?: string;
  servers: ServerProcess[];
  stop(): Promise<void>;
}

export type TargetName = 'parley' | 'lesson' | 'raw';

function running(servers: ServerProcess[], extra: { label: string; pid: number }[], load: Partial<LoadOptions>): RunningTarget {
  return {
    load: {
      ...load,
      targets: servers.map((s) => `http://127.0.0.1:${s.port}`),
      serverPids: [...servers.map((s) => ({ label: s.label, pid: s.pid })), ...extra],
    },
    servers,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
}

/** Parley with everything on: JWT auth, validation, persistence, presence, rate limits, Redis. */
export async function startParley(services: BenchServices, nodes = 2, env: Record<string, string> = {}): Promise<RunningTarget> {
  const base = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    JWT_SECRET: 'parley-bench-secret-0123456789',
    // Registration happens before the measured window; cheap hashing only shortens set-up.
    SCRYPT_COST: '1024',
    LOG_LEVEL: 'info',
    CLIENT_URL: '*',
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    ...env,
  };
  const servers: ServerProcess[] = [];
  // One after the other: the first one migrates the fresh database.
  for (let i = 1; i <= nodes; i++) {
    servers.push(
      await startProcess(`parley-${i}`, process.execPath, [...TSX, `${REPO_ROOT}services/gateway/src/main.ts`], { ...base, NODE_ID: `bench-${i}` }, parleyListeningLine),
    );
  }
  const target = running(servers, [{ label: 'redis', pid: services.redis.pid }], { protocol: 'socketio', auth: true, pgDatabase: services.databaseName });
  const ready = (await (await fetch(`http://127.0.0.1:${servers[0]!.port}/readyz`)).json()) as { checks?: Record<string, string> };
  if (nodes > 1 && !ready.checks?.redis) {
    target.note = 'this build does not use REDIS_URL yet (no Redis check in /readyz): nodes do not see each other, cross-node deliveries are missing';
  }
  return target;
}

/** The lesson's Socket.IO + Redis adapter chat, two nodes on the same Redis. */
export async function startLesson(services: BenchServices, nodes = 2): Promise<RunningTarget> {
  const servers: ServerProcess[] = [];
  for (let i = 1; i <= nodes; i++) {
    servers.push(
      await startProcess(`lesson-${i}`, process.execPath, [...TSX, `${REPO_ROOT}bench/lesson-server.ts`], { PORT: '0', REDIS_URL: services.redisUrl }, listeningLine),
    );
  }
  return running(servers, [{ label: 'redis', pid: services.redis.pid }], { protocol: 'socketio', auth: false });
}

/** The raw `ws` fan-out server, one process. */
export async function startRaw(): Promise<RunningTarget> {
  const server = await startProcess('raw-ws', process.execPath, [...TSX, `${REPO_ROOT}bench/raw-ws-server.ts`], { PORT: '0' }, listeningLine);
  return running([server], [], { protocol: 'raw', auth: false });
}
