/**
 * `pnpm cluster`: N gateway processes (node-1…node-N on ports BASE…BASE+N-1) and nginx in
 * front of them on this machine, without Docker, over REDIS_URL / DATABASE_URL (defaults:
 * the local services). Migrates first, prints the URL, stops everything on Ctrl-C / SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadConfig } from '@parley/config';
import { openDatabase } from '@parley/db';
import { writeNginxConfig } from '../nginx/render.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const port = z.coerce.number().int().min(1).max(65535);
const options = z
  .object({
    CLUSTER_NODES: z.coerce.number().int().min(1).max(32).default(3),
    CLUSTER_BASE_PORT: port.default(3001),
    CLUSTER_NGINX_PORT: port.default(8080),
    DATABASE_URL: z.url().default('postgresql://postgres@127.0.0.1:5432/postgres'),
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  })
  .parse(process.env);

const children: ChildProcess[] = [];
let stopping = false;
/** Until everything answers, one process failing (a port in use) fails the start at once. */
let started = false;

async function stop(code: number): Promise<never> {
  stopping = true;
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    ),
  );
  process.exit(code);
}

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    if (!started) {
      process.stderr.write(`cluster: failed to start: ${name} exited (${signal ?? code})\n`);
      void stop(1);
      return;
    }
    process.stderr.write(`cluster: ${name} exited (${signal ?? code}); the others keep running\n`);
  });
  children.push(child);
  return child;
}

async function waitReady(url: string, deadline: number): Promise<void> {
  for (;;) {
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

// Validate the nodes' configuration once, and migrate once before any node starts.
const nodeEnv = { ...process.env, DATABASE_URL: options.DATABASE_URL, REDIS_URL: options.REDIS_URL, MIGRATE_ON_START: 'false' };
const config = loadConfig(nodeEnv);
const db = await openDatabase(config.database);
const report = await db.migrate();
await db.close();
process.stdout.write(`cluster: migrations applied: ${report.applied.length}\n`);

const upstreams: string[] = [];
for (let i = 0; i < options.CLUSTER_NODES; i++) {
  const nodePort = options.CLUSTER_BASE_PORT + i;
  upstreams.push(`127.0.0.1:${nodePort}`);
  run(`node-${i + 1}`, process.execPath, ['--import', 'tsx', 'services/gateway/src/main.ts'], {
    ...nodeEnv,
    NODE_ID: `node-${i + 1}`,
    PORT: String(nodePort),
  });
}

// nginx after the nodes answer: a probe that fails early would take a node out of the
// upstream for fail_timeout.
try {
  const deadline = Date.now() + 60_000;
  await Promise.all(upstreams.map((u) => waitReady(`http://${u}`, deadline)));
  const dir = await mkdtemp(join(tmpdir(), 'parley-cluster-'));
  process.once('exit', () => void rm(dir, { recursive: true, force: true }));
  const { file } = await writeNginxConfig(dir, { upstreams, listen: options.CLUSTER_NGINX_PORT, errorLog: 'stderr' });
  run('nginx', 'nginx', ['-p', dir, '-c', file, '-g', 'daemon off;']);
  await waitReady(`http://127.0.0.1:${options.CLUSTER_NGINX_PORT}`, deadline);
} catch (err) {
  process.stderr.write(`cluster: failed to start: ${String(err)}\n`);
  await stop(1);
}
started = true;
process.stdout.write(
  `\nParley cluster: http://localhost:${options.CLUSTER_NGINX_PORT} (nginx, sticky) -> ${upstreams.join(', ')}\nCtrl-C stops everything.\n`,
);
