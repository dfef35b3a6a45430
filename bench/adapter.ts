/**
 * `pnpm bench:adapter`: the classic Redis adapter (PUBLISH / PSUBSCRIBE) against the sharded
 * one (SPUBLISH, dynamic subscriptions: one channel per room) on 3 node processes and a
 * private redis-server. Room chat at a fixed rate in two layouts: every room spread over all
 * nodes, and every room on one node (a node subscribed to nothing it does not need).
 * Prints node CPU and Redis CPU per 1000 deliveries, medians over BENCH_RUNS runs.
 */
import { Redis } from 'ioredis';
import { cpuSeconds } from '@parley/loadgen';
import {
  connect,
  createTestDatabase,
  provideServices,
  registerUser,
  startNodeProcess,
  startRedisServer,
  type ClientSocket,
  type NodeProcess,
} from '@parley/testkit';
import { median } from './summary.ts';

const ROOMS = Number(process.env.BENCH_ROOMS ?? 12);
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 15);
const SENDERS = Number(process.env.BENCH_SENDERS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 5); // messages per second per sender
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

type Layout = 'spread' | 'local';
interface Result {
  deliveries: number;
  nodeCpuMs: number;
  redisCpuMs: number;
}

function processCpuMs(pid: number): number {
  return (cpuSeconds(pid) ?? NaN) * 1000;
}

async function redisCpuMs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const value = (key: string) => Number(new RegExp(`${key}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (value('used_cpu_user') + value('used_cpu_sys')) * 1000;
}

async function runOnce(nodes: NodeProcess[], redis: Redis, layout: Layout): Promise<Result> {
  const sockets: ClientSocket[] = [];
  let deliveries = 0;
  const senders: { socket: ClientSocket; room: string }[] = [];
  for (let r = 0; r < ROOMS; r++) {
    const room = `bench-${layout}-${r}-${Date.now()}`;
    for (let m = 0; m < MEMBERS; m++) {
      const node = nodes[layout === 'spread' ? m % nodes.length : r % nodes.length] as NodeProcess;
      const { token } = await registerUser(node.url);
      const socket = await connect(node.url, '/', token);
      socket.on('message', (msg: { id?: number }) => {
        if (msg.id !== undefined) deliveries++;
      });
      await socket.timeout(5000).emitWithAck('join', { room });
      sockets.push(socket);
      if (m < SENDERS) senders.push({ socket, room });
    }
  }
  deliveries = 0;
  const nodeBefore = nodes.map((n) => processCpuMs(n.child.pid as number));
  const redisBefore = await redisCpuMs(redis);
  const timers = senders.map(({ socket, room }, i) => setInterval(() => socket.emit('chatMessage', { room, text: `m${i}` }), 1000 / RATE));
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  for (const t of timers) clearInterval(t);
  await new Promise((r) => setTimeout(r, 500)); // let the last deliveries land
  const nodeCpuMs = nodes.reduce((sum, n, i) => sum + processCpuMs(n.child.pid as number) - (nodeBefore[i] as number), 0);
  const redisCpu = (await redisCpuMs(redis)) - redisBefore;
  for (const s of sockets) s.close();
  return { deliveries, nodeCpuMs, redisCpuMs: redisCpu };
}

const services = await provideServices();
const redisServer = await startRedisServer();
const redis = new Redis(redisServer.url);
const rows: string[] = [];
try {
  for (const adapter of ['classic', 'sharded'] as const) {
    const db = await createTestDatabase(services.postgresUrl, 'parley_bench');
    const nodes: NodeProcess[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        nodes.push(
          await startNodeProcess({
            DATABASE_URL: db.url,
            REDIS_URL: redisServer.url,
            REDIS_ADAPTER: adapter,
            NODE_ID: `bench-${i + 1}`,
            RATE_LIMIT_PER_SEC: '100',
            LOG_LEVEL: 'info',
          }),
        );
      }
      for (const layout of ['spread', 'local'] as const) {
        const results: Result[] = [];
        for (let run = 0; run < RUNS; run++) results.push(await runOnce(nodes, redis, layout));
        const perK = (f: (r: Result) => number) => median(results.map((r) => (f(r) * 1000) / Math.max(1, r.deliveries)));
        rows.push(
          `| ${adapter} | ${layout} | ${median(results.map((r) => r.deliveries))} | ${perK((r) => r.nodeCpuMs).toFixed(1)} | ${perK((r) => r.redisCpuMs).toFixed(2)} |`,
        );
        process.stderr.write(`${rows.at(-1)}\n`);
      }
    } finally {
      await Promise.all(nodes.map((n) => n.kill('SIGKILL')));
      await db.drop();
    }
  }
} finally {
  redis.disconnect();
  await redisServer.stop();
  await services.stop();
}
process.stdout.write(
  `\n${ROOMS} rooms x ${MEMBERS} members, ${SENDERS} senders/room at ${RATE} msg/s, ${SECONDS} s, median of ${RUNS} runs\n` +
    '| adapter | layout | deliveries | node CPU ms / 1k deliveries (3 nodes) | Redis CPU ms / 1k deliveries |\n| --- | --- | --- | --- | --- |\n' +
    `${rows.join('\n')}\n`,
);
process.exit(0);
