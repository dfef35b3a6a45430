import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeNginxConfig } from '../../../infra/nginx/render.ts';
import { testEnv } from './node.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO_ROOT, 'services/gateway/src/main.ts');
/**
 * Longest a node process may take to listen, or nginx to answer. tsx compiles main.ts at each
 * start: a few seconds on an idle machine, over 20 s seen with the machine loaded.
 */
const START_TIMEOUT_MS = 45_000;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A gateway running as its own process (the real main.ts), on an ephemeral port. */
export interface NodeProcess {
  nodeId: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Settles when the process exits. */
  exited: Promise<ExitStatus>;
  /** Every JSON log line it printed so far. */
  logs: Record<string, unknown>[];
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

/** Start `services/gateway/src/main.ts` as a child process; resolves once it listens. */
export function startNodeProcess(env: Record<string, string | undefined>): Promise<NodeProcess> {
  const fullEnv = { ...process.env, ...testEnv({ LOG_LEVEL: 'info', ...env }) } as NodeJS.ProcessEnv;
  const nodeId = fullEnv.NODE_ID ?? 'node';
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO_ROOT,
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${nodeId} did not listen within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`${nodeId} exited before listening: ${JSON.stringify(status)}`));
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (typeof entry.url === 'string' && entry.msg?.toString().startsWith('Parley is listening')) {
        clearTimeout(timer);
        const port = Number(new URL(entry.url).port);
        resolve({
          nodeId,
          url: `http://127.0.0.1:${port}`,
          port,
          child,
          exited,
          logs,
          kill: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
  });
}

/** A port the OS reports free right now (for servers that cannot be told to use port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` consecutive free ports, for a program that takes a base port (`pnpm cluster`).
 * Picked below Linux's ephemeral range (32768+), where no outgoing connection can take one
 * between this check and the program's listen.
 */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - count));
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(canListen))).every(Boolean)) return base;
  }
}

/** GET `path` from `baseUrl`, leaving from `localAddress` (looks like another client to nginx). */
export function getFrom<T>(baseUrl: string, path: string, localAddress: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, baseUrl), { localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T }));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface NginxProcess {
  url: string;
  port: number;
  config: string;
  stop(): Promise<void>;
}

/** Debian's nginx with the project's template in front of `upstreams`; resolves once it proxies. */
export async function startNginx(upstreams: string[]): Promise<NginxProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-nginx-'));
  const port = await freePort();
  const { file, config } = await writeNginxConfig(dir, {
    upstreams,
    listen: `127.0.0.1:${port}`,
    errorLog: join(dir, 'error.log'),
    failTimeoutSec: 2,
  });
  const child = spawn('nginx', ['-p', dir, '-c', file, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  // nginx says nothing when it is up: wait until it proxies a health check.
  for (;;) {
    const status = await getFrom(url, '/healthz', '127.0.0.1').then((r) => r.status, (err: unknown) => String(err));
    if (status === 200) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`nginx did not start: ${status}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    config,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface TestCluster {
  nodes: NodeProcess[];
  nginx: NginxProcess;
  stop(): Promise<void>;
}

/** N node processes (node-1…node-N) sharing `env` (DATABASE_URL, REDIS_URL…), and nginx in front. */
export async function startCluster(size: number, env: Record<string, string | undefined>): Promise<TestCluster> {
  const nodes = await Promise.all(
    Array.from({ length: size }, (_, i) => startNodeProcess({ ...env, NODE_ID: `node-${i + 1}` })),
  );
  const nginx = await startNginx(nodes.map((n) => `127.0.0.1:${n.port}`));
  return {
    nodes,
    nginx,
    stop: async () => {
      await nginx.stop();
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
    },
  };
}

export interface RedisServer {
  url: string;
  port: number;
  /** Stop (SIGKILL: nothing is saved anyway) and start again on the same port, empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** A private redis-server (no persistence) on a spare port, for tests that stop or restart Redis. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
  let child: ChildProcess;
  let exited: Promise<void>;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      exited = new Promise((done) => child.once('exit', () => done()));
      void exited.then(() => reject(new Error('redis-server exited while starting')));
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        if (line.includes('Ready to accept connections')) resolve();
      });
    });
  const kill = async () => {
    child.kill('SIGKILL');
    await exited;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
