import { readFileSync } from 'node:fs';

const TEMPLATE = new URL('./nginx.conf.template', import.meta.url);

export interface NginxOptions {
  /** `host:port` of every gateway node. */
  upstreams: string[];
  /** What nginx listens on: a port, or `address:port`. */
  listen: string | number;
  /** Folder for nginx's temporary files. */
  tempDir: string;
  pidFile: string;
  /** A file, or `/dev/stderr`. */
  errorLog: string;
  /** Seconds a failed node is skipped before nginx tries it again. @default 5 */
  failTimeoutSec?: number;
}

/**
 * The nginx configuration for a cluster, from infra/nginx/nginx.conf.template.
 * @example renderNginxConfig({ upstreams: ['127.0.0.1:3001'], listen: 8080, tempDir, pidFile, errorLog })
 */
export function renderNginxConfig(options: NginxOptions): string {
  if (options.upstreams.length === 0) throw new Error('nginx needs at least one upstream');
  const failTimeout = options.failTimeoutSec ?? 5;
  const values: Record<string, string> = {
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

/** The configuration docker-compose.yml mounts (nginx.compose.conf); a test keeps it in step. */
export const COMPOSE_NGINX: NginxOptions = {
  upstreams: ['gateway-1:3000', 'gateway-2:3000', 'gateway-3:3000'],
  listen: 8080,
  tempDir: '/tmp',
  pidFile: '/tmp/nginx.pid',
  errorLog: '/dev/stderr',
};

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(renderNginxConfig(COMPOSE_NGINX));
}
