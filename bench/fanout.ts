// Fan-out benchmark (not a test): an author with FOLLOWERS followers, CONNECTED of them online
// over WORKERS client processes. Each run posts once and measures the POST latency, the time
// until the last connected follower has the notification, and until every row exists.
// Usage: pnpm bench:fanout   (env: FOLLOWERS=10000 CONNECTED=1000 WORKERS=2 RUNS=5 DATABASE_URL=...;
// BUS=redis delivers through the Redis notification bus, as a clustered node does)
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Post } from '@parley/protocol';
import { createTestDatabase, http, provideServices, startNode } from '@parley/testkit';
import type { FromClient, ToClient } from './fanout-client.ts';
import { median } from './summary.ts';

const FOLLOWERS = Number(process.env.FOLLOWERS ?? 10_000);
const CONNECTED = Number(process.env.CONNECTED ?? 1000);
const WORKERS = Number(process.env.WORKERS ?? 2);
const RUNS = Number(process.env.RUNS ?? 5);
const BUS = process.env.BUS === 'redis' ? 'redis' : 'local';

const services = await provideServices();
const db = await createTestDatabase(services.postgresUrl, 'parley_bench');
const node = await startNode({
  DATABASE_URL: db.url,
  LOG_LEVEL: 'warn',
  ...(BUS === 'redis' ? { REDIS_URL: services.redisUrl, REDIS_KEY_PREFIX: `parley-bench-${process.pid}` } : {}),
});
const workers: ChildProcess[] = [];
try {
  const sql = node.app.db.sql;
  const seedStart = performance.now();
  const [author, loner] = await sql.query<{ id: number; username: string; role: 'user' }>(
    `INSERT INTO users (username, password_hash) VALUES ('bench_author', '-'), ('bench_loner', '-') RETURNING id, username, role`,
  );
  const followers = await sql.query<{ id: number; username: string; role: 'user' }>(
    `INSERT INTO users (username, password_hash) SELECT 'bench_f' || g, '-' FROM generate_series(1, $1::int) g
     RETURNING id, username, role`,
    [FOLLOWERS],
  );
  await sql.query('INSERT INTO follows (follower_id, followee_id) SELECT id, $1 FROM users WHERE username LIKE $2', [
    author!.id,
    'bench\\_f%',
  ]);
  console.log(`seeded ${FOLLOWERS} followers with batch SQL in ${(performance.now() - seedStart).toFixed(0)} ms`);

  // Spread over the id range, so the last batch of the fan-out has a connected follower too.
  const step = Math.max(1, Math.floor(FOLLOWERS / CONNECTED));
  const tokens = followers
    .filter((_, i) => i % step === step - 1)
    .slice(0, CONNECTED)
    .map((u) => node.app.tokens.sign(u, 0));
  /** postId -> when each worker's last socket got it; waiters for all workers. */
  const received = new Map<number, number[]>();
  const waiting = new Map<number, () => void>();
  const allReceived = (postId: number) =>
    received.get(postId)?.length === WORKERS ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(postId, resolve));
  const clientFile = fileURLToPath(new URL('./fanout-client.ts', import.meta.url));
  const connectStart = performance.now();
  await Promise.all(
    Array.from({ length: WORKERS }, (_, w) => {
      const child = fork(clientFile, { execArgv: ['--import', 'tsx'] });
      workers.push(child);
      child.on('message', (m: FromClient) => {
        if (m.type !== 'received') return;
        const times = [...(received.get(m.postId) ?? []), m.lastAt];
        received.set(m.postId, times);
        if (times.length === WORKERS) waiting.get(m.postId)?.();
      });
      const share = tokens.filter((_, i) => i % WORKERS === w);
      return new Promise<void>((resolve) => {
        child.once('message', () => resolve());
        child.send({ type: 'connect', url: node.url, tokens: share } satisfies ToClient);
      });
    }),
  );
  console.log(`${CONNECTED} followers connected over ${WORKERS} processes in ${(performance.now() - connectStart).toFixed(0)} ms`);

  const authorToken = node.app.tokens.sign(author!, 0);
  const lonerToken = node.app.tokens.sign(loner!, 0);
  const results: { post: number; postNoFollowers: number; lastConnected: number; allRows: number }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    const t0 = Date.now();
    const p0 = performance.now();
    const res = await http<Post>(node.url, 'POST', '/posts', { token: authorToken, body: { content: `run ${run}` } });
    const post = performance.now() - p0;
    if (res.status !== 201) throw new Error(`POST /posts: ${res.status}`);
    await node.app.fanout.idle();
    const allRows = Date.now() - t0;
    const [{ n } = { n: 0 }] = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE data->>'postId' = $1`, [
      String(res.body.id),
    ]);
    if (n !== FOLLOWERS) throw new Error(`expected ${FOLLOWERS} notifications, found ${n}`);
    // Every worker reports once all of its sockets have the notification.
    await allReceived(res.body.id);
    const lastConnected = Math.max(...(received.get(res.body.id) ?? [])) - t0;
    const q0 = performance.now();
    await http(node.url, 'POST', '/posts', { token: lonerToken, body: { content: `control ${run}` } });
    const postNoFollowers = performance.now() - q0;
    results.push({ post, postNoFollowers, lastConnected, allRows });
    console.log(
      `run ${run}: POST ${post.toFixed(1)} ms (no followers: ${postNoFollowers.toFixed(1)} ms), ` +
        `last connected follower ${lastConnected} ms, all ${FOLLOWERS} rows ${allRows} ms`,
    );
  }
  const summary = {
    followers: FOLLOWERS,
    connected: CONNECTED,
    workers: WORKERS,
    bus: BUS,
    runs: RUNS,
    batchSize: node.config.fanout.batchSize,
    medianPostMs: Number(median(results.map((r) => r.post)).toFixed(1)),
    medianPostNoFollowersMs: Number(median(results.map((r) => r.postNoFollowers)).toFixed(1)),
    medianLastConnectedMs: median(results.map((r) => r.lastConnected)),
    medianAllRowsMs: median(results.map((r) => r.allRows)),
  };
  console.log(JSON.stringify(summary));
} finally {
  for (const w of workers) w.send({ type: 'close' } satisfies ToClient);
  await node.close();
  await db.drop();
  await services.stop();
}
