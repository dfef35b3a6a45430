/**
 * `pnpm bench:k6`: issue 13's CPU per delivery measured with a second, independent client: k6
 * (infra/k6/chat-fanout.js, plain JavaScript over k6/ws, which shares no code with
 * @parley/loadgen) drives Parley (2 nodes) and the lesson server (2 nodes) in turn with the
 * bench's shape (800 users in 20 rooms of 40, the first 100 sending `--rate` messages/s each,
 * WebSocket, spread over both nodes), and this script reads the servers' CPU from /proc over a
 * window of `--duration` s that starts `--lead` s after k6 (time for k6 to register and connect
 * everyone). k6 counts the deliveries of the messages sent inside that window
 * (`chat_window_received`); CPU ÷ deliveries gives µs per delivery, whole-server (nodes, Redis and
 * Parley's PostgreSQL) and nodes only, medians of `--repeat` runs, and Parley's ratios.
 *
 *   pnpm bench:k6 [--rate 4] [--repeat 3] [--lead 40] [--duration 15]
 */
import { parseArgs } from 'node:util';
import { createTestDatabase, provideServices, startRedisServer } from '@parley/devcluster';
import { cpuWindow, findPostgresPids, findRedisPids, type CpuSample, type WatchedProcess } from '@parley/loadgen';
import { findK6, REPO_ROOT, runK6 } from '@parley/testkit';
import { median } from './summary.ts';
import { startLesson, startParley, type BenchServices, type RunningTarget } from './targets.ts';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '4' },
    repeat: { type: 'string', default: '3' },
    lead: { type: 'string', default: '40' },
    duration: { type: 'string', default: '15' },
  },
});
const rate = Number(values.rate);
const repeat = Number(values.repeat);
const leadSec = Number(values.lead);
const durationSec = Number(values.duration);
const SHAPE = { VUS: 800, ROOMS: 20, SENDERS: 100 };
const expected = SHAPE.SENDERS * rate * durationSec * (SHAPE.VUS / SHAPE.ROOMS);

const log = (line: string) => process.stderr.write(`[bench:k6] ${line}\n`);
const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

interface Run {
  deliveries: number;
  wholeMicros: number;
  nodesMicros: number;
  p99: number;
  cpu: CpuSample[];
}

async function measure(name: string, protocol: 'parley' | 'lesson', target: RunningTarget, services: BenchServices): Promise<Run> {
  const watched: WatchedProcess[] = target.servers.map(({ label, pid }) => ({ label, pids: () => [pid] }));
  watched.push({ label: 'redis', pids: () => findRedisPids(services.redis.port) });
  if (protocol === 'parley') watched.push({ label: 'postgres', pids: () => findPostgresPids(services.databaseName) });
  const windowStart = Date.now() + leadSec * 1000;
  const windowEnd = windowStart + durationSec * 1000;
  const k6 = runK6(`${REPO_ROOT}infra/k6/chat-fanout.js`, {
    env: {
      PROTOCOL: protocol,
      BASE_URLS: target.load.targets!.join(','),
      ...SHAPE,
      SEND_EVERY_MS: 1000 / rate,
      // Senders send from their connection until after the window.
      DURATION_S: leadSec + durationSec + 3,
      GRACE_S: 3,
      WINDOW_START_MS: windowStart,
      WINDOW_END_MS: windowEnd,
      // Latency is reported, not judged, here.
      P95_MS: 600_000,
      P99_MS: 600_000,
    },
    timeoutMs: (leadSec + durationSec + 120) * 1000,
  });
  await sleepUntil(windowStart);
  const window = cpuWindow(watched);
  await sleepUntil(windowEnd);
  const cpu = window.stop();
  const run = await k6;
  const deliveries = Number(run.summary?.metrics.chat_window_received?.count ?? 0);
  if (deliveries === 0) throw new Error(`${name}: k6 counted no delivery: ${[...run.errors, ...run.problems].join('; ')}`);
  // A missed threshold (deliveries late or lost on a busy machine) is reported, not fatal: the
  // delivery share below tells how far the run kept up.
  for (const problem of run.problems) log(`${name}: k6: ${problem}`);
  const p99 = Number(run.summary?.metrics.chat_e2e_latency?.['p(99)'] ?? NaN);
  const whole = cpu.reduce((s, c) => s + c.cpuSeconds, 0);
  const nodes = cpu.filter((c) => c.label !== 'redis' && c.label !== 'postgres').reduce((s, c) => s + c.cpuSeconds, 0);
  const result = { deliveries, wholeMicros: (whole * 1e6) / deliveries, nodesMicros: (nodes * 1e6) / deliveries, p99, cpu };
  log(
    `${name}: ${deliveries} deliveries (${((100 * deliveries) / expected).toFixed(1)} % of ${expected}), ` +
      `${result.wholeMicros.toFixed(2)} µs whole-server, ${result.nodesMicros.toFixed(2)} µs nodes, p99 ${p99.toFixed(1)} ms; ` +
      cpu.map((c) => `${c.label} ${c.cpuPercent.toFixed(0)} %`).join(', '),
  );
  return result;
}

if (!findK6()) throw new Error('no k6 on PATH (put ../shared/bin on PATH)');
const services = await provideServices();
const database = await createTestDatabase(services.postgresUrl, 'parley_bench_k6');
const redis = await startRedisServer();
const bench: BenchServices = { redis, databaseUrl: database.url, databaseName: database.name };
const results: Record<'parley' | 'lesson', Run[]> = { parley: [], lesson: [] };
try {
  for (const protocol of ['parley', 'lesson'] as const) {
    const target = protocol === 'parley' ? await startParley(bench) : await startLesson(bench);
    try {
      for (let i = 1; i <= repeat; i++) results[protocol].push(await measure(`${protocol} run ${i}/${repeat}`, protocol, target, bench));
    } finally {
      await target.stop();
    }
  }
} finally {
  await redis.stop();
  await database.drop();
}

const m = (runs: Run[], pick: (r: Run) => number) => median(runs.map(pick));
const lines = [
  `k6 chat-fanout, ${SHAPE.VUS} users in ${SHAPE.ROOMS} rooms, ${SHAPE.SENDERS} senders × ${rate} msg/s (${expected / durationSec / 1000}k deliveries/s), ${durationSec} s window; medians of ${repeat}`,
  '',
  '| target | deliveries in window | whole-server µs/delivery | nodes µs/delivery | p99 ms (k6) | runs, whole-server µs |',
  '| --- | --- | --- | --- | --- | --- |',
];
for (const [name, runs] of Object.entries(results)) {
  lines.push(
    `| ${name} | ${m(runs, (r) => r.deliveries)} | ${m(runs, (r) => r.wholeMicros).toFixed(2)} | ${m(runs, (r) => r.nodesMicros).toFixed(2)} | ${m(runs, (r) => r.p99).toFixed(1)} | ${runs.map((r) => r.wholeMicros.toFixed(2)).join(' / ')} |`,
  );
}
const ratio = (pick: (r: Run) => number) => (m(results.parley, pick) / m(results.lesson, pick)).toFixed(2);
lines.push('', `Parley ÷ lesson server: whole-server ${ratio((r) => r.wholeMicros)}, nodes ${ratio((r) => r.nodesMicros)}`);
process.stdout.write(`${lines.join('\n')}\n`);
