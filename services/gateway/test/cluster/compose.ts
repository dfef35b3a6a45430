import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from '@parley/testkit';

/**
 * What the compose tests share: the files, the environment an operator gives docker-compose and
 * the merged configuration it prints. Docker cannot run here; Debian's docker-compose 1.29
 * validates and merges the files without an engine (`config`).
 */

export const run = promisify(execFile);

/** docker-compose.yml: the cluster on one Redis. */
export const COMPOSE_FILE = join(REPO_ROOT, 'docker-compose.yml');
/** The override that puts it on a Redis Cluster (used with `-f docker-compose.yml -f …`). */
export const REDIS_CLUSTER_OVERRIDE = join(REPO_ROOT, 'docker-compose.redis-cluster.yml');

/** What an operator must give docker-compose: a random secret (none is written in the repository). */
export const composeEnv: NodeJS.ProcessEnv = { ...process.env, JWT_SECRET: randomBytes(32).toString('hex') };

export interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: object;
  profiles?: string[];
  restart?: string;
  /** As docker-compose 1.29's `config` prints them: `host_ip:published:target/protocol`. */
  ports?: string[];
}

/** The services of `files` merged in order, as `docker-compose config` prints them (relative paths made absolute). */
export async function composeServices(files: string[], args: string[] = []): Promise<Record<string, ComposeService>> {
  const { stdout } = await run('docker-compose', [...files.flatMap((f) => ['-f', f]), ...args, 'config'], {
    cwd: REPO_ROOT,
    env: composeEnv,
  });
  return (parse(stdout) as { services: Record<string, ComposeService> }).services;
}
