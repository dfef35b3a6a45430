/**
 * `pnpm bench:startup [runs]`: start time and memory of one gateway process, run as compiled
 * JavaScript (`node --conditions=parley-dist services/gateway/dist/main.js`, what `pnpm start`,
 * `pnpm cluster` and the image run) and as TypeScript through tsx (`node --import tsx
 * services/gateway/src/main.ts`, how every node ran before), interleaved run by run so both see
 * the same machine load. Production settings: NODE_ENV=production, the local PostgreSQL (a fresh
 * database, migrated once beforehand) and Redis.
 *
 * Per run: spawn → the node's "listening" IPC message (after the database, Redis and the listen
 * socket are up), and → the first 200 from GET /healthz; RSS (/proc/<pid>/status) 1 s after
 * listening; then a short load (20 users register, connect, join one room, send 10 acked chat
 * messages each, disconnect) and RSS after 2 s idle. Medians over the runs, with min–max.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '@parley/config';
import { openDatabase } from '@parley/db';
import { checkBuild, createTestDatabase, DIST_CONDITION, GATEWAY_MAIN, REPO_ROOT } from '@parley/devcluster';
import { connect, registerUser, request } from '@parley/testkit';

const RUNS = Number(process.argv[2] ?? 5);
const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const MODES = {
  dist: { argv: [`--conditions=${DIST_CONDITION}`], main: GATEWAY_MAIN },
  tsx: { argv: ['--import', 'tsx'], main: `${REPO_ROOT}services/gateway/src/main.ts` },
} as const;
type Mode = keyof typeof MODES;

interface Sample {
  listenMs: number;
  healthzMs: number;
  rssStartMb: number;
  rssAfterLoadMb: number;
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return kb / 1024;
}

async function firstHealthz(url: string): Promise<void> {
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(5);
  }
}

async function shortLoad(url: string): Promise<void> {
  const room = `startup-${randomBytes(3).toString('hex')}`;
  const users = await Promise.all(Array.from({ length: 20 }, () => registerUser(url)));
  const sockets = await Promise.all(users.map((u) => connect(url, '/', u.token)));
  await Promise.all(sockets.map((s) => request(s, 'join', { room })));
  for (let i = 0; i < 10; i++) await Promise.all(sockets.map((s) => request(s, 'chatMessage', { room, text: `m${i}` })));
  for (const s of sockets) s.close();
}

async function runOnce(mode: Mode, env: Record<string, string>): Promise<Sample> {
  const { argv, main } = MODES[mode];
  const started = performance.now();
  const child = fork(main, [], { cwd: REPO_ROOT, execArgv: [...argv], env: { ...process.env, ...env }, stdio: 'ignore' });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${mode} exited (${code}) before listening`)));
      child.on('message', (m: { type?: string; port?: number }) => {
        if (m.type === 'listening' && typeof m.port === 'number') resolve(m.port);
      });
    });
    const listenMs = performance.now() - started;
    const url = `http://127.0.0.1:${port}`;
    await firstHealthz(url);
    const healthzMs = performance.now() - started;
    await sleep(1000);
    const rssStartMb = rssMb(child.pid as number);
    await shortLoad(url);
    await sleep(2000);
    return { listenMs, healthzMs, rssStartMb, rssAfterLoadMb: rssMb(child.pid as number) };
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

checkBuild(REPO_ROOT);
const db = await createTestDatabase(POSTGRES_URL, 'parley_startup');
const env = {
  NODE_ENV: 'production',
  JWT_SECRET: randomBytes(32).toString('hex'),
  DATABASE_URL: db.url,
  REDIS_URL,
  REDIS_KEY_PREFIX: `startup${randomBytes(3).toString('hex')}`,
  MIGRATE_ON_START: 'false',
  PORT: '0',
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  SCRYPT_COST: '1024',
  HTTP_RATE_LIMIT_PER_MIN: '100000',
  AUTH_RATE_LIMIT_PER_IP: '100000',
};
try {
  const migrated = await openDatabase(loadConfig(env).database);
  await migrated.migrate();
  await migrated.close();
  const samples: Record<Mode, Sample[]> = { dist: [], tsx: [] };
  for (let run = 0; run < RUNS; run++) {
    // Alternate which goes first, so neither always follows the other's exit.
    const order: Mode[] = run % 2 ? ['tsx', 'dist'] : ['dist', 'tsx'];
    for (const mode of order) {
      const s = await runOnce(mode, env);
      samples[mode].push(s);
      process.stdout.write(
        `run ${run + 1} ${mode}: listening ${s.listenMs.toFixed(0)} ms, /healthz ${s.healthzMs.toFixed(0)} ms, ` +
          `RSS ${s.rssStartMb.toFixed(1)} MB, after load ${s.rssAfterLoadMb.toFixed(1)} MB\n`,
      );
    }
  }
  process.stdout.write(
    `\nmedians of ${RUNS} runs (min–max), load average ${readFileSync('/proc/loadavg', 'utf8').split(' ', 3).join(' ')}\n`,
  );
  for (const mode of ['tsx', 'dist'] as const) {
    const col = (key: keyof Sample, digits: number) => {
      const values = samples[mode].map((s) => s[key]);
      return `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)})`;
    };
    process.stdout.write(
      `${mode}: listening ${col('listenMs', 0)} ms | /healthz ${col('healthzMs', 0)} ms | RSS ${col('rssStartMb', 1)} MB | after load ${col('rssAfterLoadMb', 1)} MB\n`,
    );
  }
} finally {
  await db.drop();
}
