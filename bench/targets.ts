import { randomBytes } from 'node:crypto';
import type { LoadOptions } from '@parley/loadgen';
import {
  launch,
  REPO_ROOT,
  START_TIMEOUT_MS,
  startGatewayProcess,
  startNginx,
  type Launched,
  type NodeProcess,
  type RedisServer,
} from '@parley/devcluster';
import { parleyWriter, redisCommands } from './counters.ts';

/** The bench servers print `{"listening":<port>}` once they listen. */
const LISTENING = /^\{"listening":(\d+)\}$/;

interface BenchServer {
  label: string;
  port: number;
  server: Launched;
}

/** A bench server (bench/<file>) as its own process; resolves once it listens. */
async function startBenchServer(label: string, file: string, env: Record<string, string>, nodeArgs: string[] = []): Promise<BenchServer> {
  const server = await launch(process.execPath, [...nodeArgs, '--import', 'tsx', `${REPO_ROOT}bench/${file}`], {
    name: label,
    port: 0,
    ready: LISTENING,
    timeoutMs: START_TIMEOUT_MS,
    spawn: { env: { ...process.env, PORT: '0', ...env } },
  });
  return { label, port: Number(LISTENING.exec(server.readyLine)?.[1]), server };
}

/** Node options for a V8 CPU profile written into `dir` at exit (none without a `dir`). */
const profileArgs = (dir: string | undefined) => (dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);

async function stopBenchServer({ server }: BenchServer, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  server.child.kill(signal);
  await server.exited;
}

/** Services a target may use: the run's private Redis and a fresh PostgreSQL database. */
export interface BenchServices {
  redis: RedisServer;
  databaseUrl: string;
  databaseName: string;
}

/** A started system under test, and how the load tool reaches and measures it. */
export interface RunningTarget {
  /** Load options this target needs (targets, protocol, auth, watched processes). */
  load: Partial<LoadOptions>;
  /** The server processes (one per node). */
  servers: { label: string; pid: number }[];
  /** Caveat printed with the results. */
  note?: string;
  /** Where its processes write their CPU profiles (`--profile`). */
  profileDir?: string;
  stop(): Promise<void>;
}

export type TargetName = 'parley' | 'lesson' | 'raw';

function running(
  servers: { label: string; pid: number; url: string }[],
  load: Partial<LoadOptions>,
  stop: () => Promise<void>,
): RunningTarget {
  const pids = servers.map(({ label, pid }) => ({ label, pid }));
  return { load: { targets: servers.map((s) => s.url), serverPids: pids, ...load }, servers: pids, stop };
}

/**
 * Parley with everything on: JWT auth, validation, persistence, presence, rate limits and
 * the Redis adapter; `nginx` puts nginx (the cluster template) in front of the nodes.
 */
export async function startParley(
  services: BenchServices,
  options: { nodes?: number; env?: Record<string, string>; nginx?: boolean; profileDir?: string } = {},
): Promise<RunningTarget> {
  const env = {
    NODE_ENV: 'production',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    // Production refuses any secret written in the repository: a random one per run.
    JWT_SECRET: randomBytes(32).toString('hex'),
    // Registration happens before the measured window; cheap hashing only shortens set-up.
    SCRYPT_COST: '1024',
    // Every load client comes from 127.0.0.1: the limits of one client address would stop the set-up.
    HTTP_RATE_LIMIT_PER_MIN: '1000000',
    AUTH_RATE_LIMIT_PER_IP: '1000000',
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redis.url,
    ...options.env,
  };
  const nodes: NodeProcess[] = [];
  // One after the other: the first one migrates the fresh database.
  for (let i = 1; i <= (options.nodes ?? 2); i++)
    nodes.push(await startGatewayProcess({ ...env, NODE_ID: `bench-${i}` }, { nodeArgs: profileArgs(options.profileDir) }));
  const servers = nodes.map((n, i) => ({ label: `parley-${i + 1}`, pid: n.child.pid!, url: n.url }));
  const nginx = options.nginx ? await startNginx(nodes.map((n) => `127.0.0.1:${n.port}`)) : undefined;
  const commands = redisCommands(services.redis.url);
  const stop = async () => {
    commands.close();
    await nginx?.stop();
    // A profiled node writes its profile when it exits by itself (SIGTERM), not when killed.
    await Promise.all(nodes.map((n) => n.kill(options.profileDir ? 'SIGTERM' : 'SIGKILL')));
  };
  const load: Partial<LoadOptions> = {
    protocol: 'socketio',
    auth: true,
    redisPort: services.redis.port,
    pgDatabase: services.databaseName,
    counters: async () => ({ ...(await commands.read()), ...(await parleyWriter(nodes.map((n) => n.url))) }),
  };
  const target = { ...running(servers, load, stop), profileDir: options.profileDir };
  if (!nginx) return target;
  return { ...target, load: { ...target.load, targets: [nginx.url] }, note: 'server CPU excludes nginx' };
}

/** The lesson's Socket.IO + Redis adapter chat, `nodes` processes on the same Redis. */
export async function startLesson(services: BenchServices, nodes = 2, profileDir?: string): Promise<RunningTarget> {
  const servers: BenchServer[] = [];
  for (let i = 1; i <= nodes; i++)
    servers.push(await startBenchServer(`lesson-${i}`, 'lesson-server.ts', { REDIS_URL: services.redis.url }, profileArgs(profileDir)));
  const commands = redisCommands(services.redis.url);
  const target = running(
    servers.map((s) => ({ label: s.label, pid: s.server.child.pid!, url: `http://127.0.0.1:${s.port}` })),
    { protocol: 'socketio', auth: false, redisPort: services.redis.port, counters: () => commands.read() },
    async () => {
      commands.close();
      // A profiled server writes its profile when it exits by itself (SIGTERM), not when killed.
      await Promise.all(servers.map((s) => stopBenchServer(s, profileDir ? 'SIGTERM' : 'SIGKILL')));
    },
  );
  return { ...target, profileDir };
}

/** The raw `ws` fan-out server, one process. */
export async function startRaw(): Promise<RunningTarget> {
  const raw = await startBenchServer('raw-ws', 'raw-ws-server.ts', {});
  return running(
    [{ label: raw.label, pid: raw.server.child.pid!, url: `http://127.0.0.1:${raw.port}` }],
    { protocol: 'raw', auth: false },
    () => stopBenchServer(raw),
  );
}
