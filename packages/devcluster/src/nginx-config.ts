import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const TEMPLATE = new URL('./nginx.conf.template', import.meta.url);

/** Connections per node the published figures promise (docs/PERFORMANCE.md: 20k per node). */
export const CONNECTIONS_PER_NODE = 20_000;
/** nginx connections beyond the proxied WebSockets: health checks, long-polling requests, keep-alive to the nodes. */
const CONNECTION_MARGIN = 1024;
/** Open files beyond the connections: log files, listeners, temporary files. */
const FILE_MARGIN = 1024;

export interface NginxOptions {
  /** `host:port` of every gateway node. */
  upstreams: string[];
  /** What nginx listens on: a port, or `address:port`. */
  listen: string | number;
  /** Folder for nginx's temporary files. */
  tempDir: string;
  pidFile: string;
  /** A file, or `stderr` (nginx's own name for it: opening `/dev/stderr` fails when stderr is a socket, as under Node's spawn or journald). */
  errorLog: string;
  /** Seconds a failed node is skipped before nginx tries it again. @default 5 */
  failTimeoutSec?: number;
  /** Client connections each node must be able to hold through nginx. @default CONNECTIONS_PER_NODE (20000) */
  connectionsPerNode?: number;
  /**
   * Most concurrent connections from one client address (nginx `limit_conn`; a WebSocket counts
   * for its whole life), beyond which nginx answers 429 `rate_limited`. Off by default: load
   * tests and clients behind one NAT come from a single address. @default undefined (no limit)
   */
  perIpConnections?: number;
}

/** worker_connections and worker_rlimit_nofile for `nodes` nodes of `perNode` WebSockets each (two nginx connections per WebSocket). */
export function nginxCapacity(nodes: number, perNode: number = CONNECTIONS_PER_NODE): { workerConnections: number; rlimitNofile: number } {
  const workerConnections = 2 * perNode * nodes + CONNECTION_MARGIN;
  return { workerConnections, rlimitNofile: workerConnections + FILE_MARGIN };
}

/** The most WebSockets per node (at most CONNECTIONS_PER_NODE) whose worker_rlimit_nofile fits in `openFiles`. */
export function connectionsPerNodeWithin(nodes: number, openFiles: number): number {
  const fits = Math.floor((openFiles - FILE_MARGIN - CONNECTION_MARGIN) / (2 * nodes));
  return Math.max(1, Math.min(CONNECTIONS_PER_NODE, fits));
}

/**
 * The nginx configuration for a cluster, from nginx.conf.template (beside this file).
 * @example renderNginxConfig({ upstreams: ['127.0.0.1:3001'], listen: 8080, tempDir, pidFile, errorLog })
 */
export function renderNginxConfig(options: NginxOptions): string {
  if (options.upstreams.length === 0) throw new Error('nginx needs at least one upstream');
  const failTimeout = options.failTimeoutSec ?? 5;
  const perNode = options.connectionsPerNode ?? CONNECTIONS_PER_NODE;
  const { workerConnections, rlimitNofile } = nginxCapacity(options.upstreams.length, perNode);
  const perIp = options.perIpConnections;
  if (perIp !== undefined && !(Number.isInteger(perIp) && perIp > 0))
    throw new Error(`perIpConnections must be a positive integer: ${perIp}`);
  const values: Record<string, string> = {
    connectionsPerNode: String(perNode),
    workerConnections: String(workerConnections),
    rlimitNofile: String(rlimitNofile),
    perIpLimit: perIp === undefined ? 'off (perIpConnections)' : `at most ${perIp}`,
    limitConn: perIp === undefined ? '    # limit_conn per_ip <N>;' : `    limit_conn per_ip ${perIp};`,
    servers: options.upstreams.map((u) => `    server ${u} max_fails=1 fail_timeout=${failTimeout}s;`).join('\n'),
    listen: String(options.listen),
    tempDir: options.tempDir,
    pidFile: options.pidFile,
    errorLog: options.errorLog,
  };
  return readFileSync(TEMPLATE, 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`nginx template: unknown placeholder ${key}`);
    return value;
  });
}

/**
 * Renders the configuration into `dir` (temporary files in `dir/tmp`, the pid file beside it)
 * and writes it to `dir/nginx.conf`, for `nginx -p <dir> -c <file>`.
 */
export async function writeNginxConfig(
  dir: string,
  options: Omit<NginxOptions, 'tempDir' | 'pidFile'>,
): Promise<{ file: string; config: string }> {
  await mkdir(join(dir, 'tmp'), { recursive: true });
  const config = renderNginxConfig({ ...options, tempDir: join(dir, 'tmp'), pidFile: join(dir, 'nginx.pid') });
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config);
  return { file, config };
}

/** The configuration docker-compose.yml mounts (infra/nginx/nginx.compose.conf); a test keeps it in step. */
export const COMPOSE_NGINX: NginxOptions = {
  upstreams: ['gateway-1:3000', 'gateway-2:3000', 'gateway-3:3000'],
  listen: 8080,
  tempDir: '/tmp',
  pidFile: '/tmp/nginx.pid',
  errorLog: '/dev/stderr',
};

if (import.meta.url === `file://${process.argv[1]}`) {
  // NGINX_PER_IP_CONNECTIONS=<N> renders the compose configuration with a per-IP limit.
  const perIp = process.env.NGINX_PER_IP_CONNECTIONS;
  process.stdout.write(renderNginxConfig({ ...COMPOSE_NGINX, ...(perIp ? { perIpConnections: Number(perIp) } : {}) }));
}
