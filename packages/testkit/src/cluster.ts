import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeNginxConfig } from '../../../infra/nginx/render.ts';
import { LogTail, type LogEntry } from './logs.ts';
import { testEnv } from './node.ts';
import { ADDRESS_IN_USE, freePort, launch, PortInUseError, startOnFreePort, type Launched } from './ports.ts';

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
  logs: LogEntry[];
  /** See `LogTail.next`: the next log line matching `predicate`, bounded, failing if the process exits. */
  nextLog(what: string, predicate: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
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
  const exited = new Promise<ExitStatus>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const tail = new LogTail(nodeId);
  void exited.then((status) => tail.end(`exited (${JSON.stringify(status)})`));
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
      tail.push(entry);
      if (typeof entry.url === 'string' && entry.msg?.toString().startsWith('Parley is listening')) {
        clearTimeout(timer);
        const port = Number(new URL(entry.url).port);
        resolve({
          nodeId,
          url: `http://127.0.0.1:${port}`,
          port,
          child,
          exited,
          logs: tail.entries,
          nextLog: (what, predicate, timeoutMs) => tail.next(what, predicate, timeoutMs),
          kill: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
  });
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

/**
 * Debian's nginx with the project's template in front of `upstreams`; resolves once it proxies.
 * Retried on another port when its port was taken meanwhile (`pickPort` picks each one).
 */
export async function startNginx(upstreams: string[], pickPort: () => Promise<number> = freePort): Promise<NginxProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-nginx-'));
  try {
    return await startOnFreePort('nginx', (port) => launchNginx(dir, upstreams, port), pickPort);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launchNginx(dir: string, upstreams: string[], port: number): Promise<NginxProcess> {
  const errorLog = join(dir, 'error.log');
  await rm(errorLog, { force: true });
  const { file, config } = await writeNginxConfig(dir, {
    upstreams,
    listen: `127.0.0.1:${port}`,
    errorLog,
    failTimeoutSec: 2,
  });
  const child = spawn('nginx', ['-p', dir, '-c', file, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // nginx retries a taken port for 2.5 s before it gives up: no need to wait for that.
  const portTaken = new Promise<string>((resolve) => {
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (ADDRESS_IN_USE.test(stderr)) resolve('address in use');
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  // nginx says nothing when it is up: wait until it proxies a health check.
  for (;;) {
    // Raced with its failure: whatever else holds the port may never answer.
    const status = await Promise.race([
      getFrom(url, '/healthz', '127.0.0.1').then((r) => r.status, (err: unknown) => String(err)),
      exited.then(() => 'exited'),
      portTaken,
    ]);
    if (status === 200) break;
    if (status === 'address in use' || status === 'exited') {
      child.kill('SIGKILL');
      await exited;
      const said = stderr + (await readFile(errorLog, 'utf8').catch(() => ''));
      throw ADDRESS_IN_USE.test(said) ? new PortInUseError(port, said) : new Error(`nginx exited while starting: ${said}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start: ${status}`);
    }
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
  /** Kill it (SIGKILL: nothing is saved anyway); `start()` brings it back. */
  halt(): Promise<void>;
  /** Start it again on the same port, empty (fails if another process took the port meanwhile). */
  start(): Promise<void>;
  /** `halt()` then `start()`. */
  restart(): Promise<void>;
  /** Kill it for good and delete its folder. */
  stop(): Promise<void>;
}

/**
 * A private redis-server (no persistence) on a spare port, for tests that stop or restart Redis.
 * Retried on another port when its port was taken meanwhile (`pickPort` picks each one).
 */
export async function startRedisServer(pickPort: () => Promise<number> = freePort): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
  const launchOn = (port: number) =>
    launch('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      name: 'redis-server',
      port,
      ready: /Ready to accept connections/,
      timeoutMs: START_TIMEOUT_MS,
    });
  let server: Launched;
  let port: number;
  try {
    server = await startOnFreePort('redis-server', async (p) => {
      const launched = await launchOn(p);
      port = p;
      return launched;
    }, pickPort);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const halt = async () => {
    server.child.kill('SIGKILL');
    await server.exited;
  };
  // Same port (clients reconnect to it): if another process took it meanwhile, this fails.
  const start = async () => {
    server = await launchOn(port);
  };
  return {
    url: `redis://127.0.0.1:${port!}`,
    port: port!,
    halt,
    start,
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      await halt();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
