import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const TEMPLATE = new URL('./nginx.conf.template', import.meta.url);

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
}

/**
 * The nginx configuration for a cluster, from nginx.conf.template (beside this file).
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
  process.stdout.write(renderNginxConfig(COMPOSE_NGINX));
}
