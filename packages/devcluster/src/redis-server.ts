import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { START_TIMEOUT_MS } from './gateway-process.ts';
import { freePort, launch, launchOnFreePort } from './ports.ts';

export interface RedisServer {
  /** `redis://<host>:<port>`. */
  readonly url: string;
  /** The loopback address it listens on: 127.0.0.1 unless `start({ host })` moved it. */
  readonly host: string;
  port: number;
  /** Kill it (SIGKILL: nothing is saved anyway); `start()` brings it back. */
  halt(): Promise<void>;
  /**
   * Start it again on the same port, empty (fails if another process took the port meanwhile).
   * `host` moves it to another loopback address, its outgoing connections too (`bind-source-addr`,
   * Redis 7): a container that came back with a new IP address. Its folder (a cluster node's
   * `nodes.conf`) is kept.
   */
  start(options?: { host?: string }): Promise<void>;
  /** Stop answering without going away (SIGSTOP): connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT: it answers everything that waited. */
  resume(): void;
  /** `halt()` then `start()`. */
  restart(): Promise<void>;
  /** Kill it for good and delete its folder. */
  stop(): Promise<void>;
}

/**
 * A private redis-server (no persistence) on a spare port, for tests that stop or restart Redis.
 * Retried on another port when its port was taken meanwhile (`pickPort` picks each one).
 * `extraArgs` are added to its command line (cluster mode: see startRedisCluster).
 */
export async function startRedisServer(pickPort: () => Promise<number> = freePort, extraArgs: string[] = []): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-redis-'));
  let host = '127.0.0.1';
  const launchOn = (port: number) =>
    launch(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        host,
        ...(host === '127.0.0.1' ? [] : ['--bind-source-addr', host]),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...extraArgs,
      ],
      {
        name: 'redis-server',
        port,
        ready: /Ready to accept connections/,
        timeoutMs: START_TIMEOUT_MS,
      },
    );
  const started = await launchOnFreePort('redis-server', launchOn, pickPort, () => rm(dir, { recursive: true, force: true }));
  let server = started.server;
  const port = started.port;
  const halt = async () => {
    server.child.kill('SIGKILL');
    await server.exited;
  };
  // Same port (clients reconnect to it): if another process took it meanwhile, this fails.
  const start = async (options: { host?: string } = {}) => {
    host = options.host ?? host;
    server = await launchOn(port);
  };
  return {
    get url() {
      return `redis://${host}:${port}`;
    },
    get host() {
      return host;
    },
    port: port,
    halt,
    start,
    pause: () => server.child.kill('SIGSTOP'),
    resume: () => server.child.kill('SIGCONT'),
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
