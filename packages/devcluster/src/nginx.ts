import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getFrom, START_TIMEOUT_MS } from './gateway-process.ts';
import { CONNECTIONS_PER_NODE, connectionsPerNodeWithin, nginxCapacity, writeNginxConfig } from './nginx-config.ts';
import { ADDRESS_IN_USE, freePort, PortInUseError, startOnFreePort } from './ports.ts';

export interface NginxProcess {
  url: string;
  port: number;
  config: string;
  /** WebSockets per node nginx was sized for: CONNECTIONS_PER_NODE, or fewer when it runs unprivileged under a lower open-file limit. */
  connectionsPerNode: number;
  /** Settles when nginx exits. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export interface NginxStartOptions {
  /** A fixed port (`pnpm cluster`); otherwise a free one, retried when taken meanwhile. */
  port?: number;
  /** Picks each port tried when `port` is not given. @default freePort */
  pickPort?: () => Promise<number>;
  /** Listen on every interface instead of 127.0.0.1 only. @default false */
  public?: boolean;
  /** Seconds a failed node is skipped. @default 2 */
  failTimeoutSec?: number;
  /** Most concurrent connections per client address (429 `rate_limited` beyond). @default undefined (no limit) */
  perIpConnections?: number;
}

/** The hard open-file limit nginx inherits from this process (Linux), or undefined where unknown. */
async function hardOpenFileLimit(): Promise<number | undefined> {
  const limits = await readFile('/proc/self/limits', 'utf8').catch(() => '');
  const hard = /^Max open files\s+\S+\s+(\d+)/m.exec(limits)?.[1];
  return hard === undefined ? undefined : Number(hard);
}

/**
 * WebSockets per node to size nginx for. Root may raise nginx's open-file limit to what
 * `worker_rlimit_nofile` asks; an unprivileged nginx cannot go past its hard limit (each worker
 * logs a failed setrlimit and keeps the lower limit), so it is sized to fit that instead.
 */
async function connectionsPerNodeHere(nodes: number): Promise<number> {
  if (process.getuid?.() === 0) return CONNECTIONS_PER_NODE;
  const hard = await hardOpenFileLimit();
  if (hard === undefined || hard >= nginxCapacity(nodes).rlimitNofile) return CONNECTIONS_PER_NODE;
  return connectionsPerNodeWithin(nodes, hard);
}

/**
 * Debian's nginx with the project's template in front of `upstreams`; resolves once it
 * proxies a health check. Stopped by `stop()` (its temporary folder too).
 */
export async function startNginx(upstreams: string[], options: NginxStartOptions = {}): Promise<NginxProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-nginx-'));
  const fixed = options.port;
  try {
    return fixed === undefined
      ? await startOnFreePort('nginx', (port) => launchNginx(dir, upstreams, port, options), options.pickPort ?? freePort)
      : await launchNginx(dir, upstreams, fixed, options);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launchNginx(dir: string, upstreams: string[], port: number, options: NginxStartOptions): Promise<NginxProcess> {
  const errorLog = join(dir, 'error.log');
  await rm(errorLog, { force: true });
  const connectionsPerNode = await connectionsPerNodeHere(upstreams.length);
  const { file, config } = await writeNginxConfig(dir, {
    upstreams,
    listen: options.public ? port : `127.0.0.1:${port}`,
    errorLog,
    failTimeoutSec: options.failTimeoutSec ?? 2,
    connectionsPerNode,
    perIpConnections: options.perIpConnections,
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
      getFrom(url, '/healthz', '127.0.0.1').then(
        (r) => r.status,
        (err: unknown) => String(err),
      ),
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
    connectionsPerNode,
    exited,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
