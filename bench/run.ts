/**
 * `pnpm bench`: the benchmark suite, in one run. Starts each target in turn (Parley as a
 * 2-node cluster with everything on, the lesson server on 2 nodes, the raw ws server),
 * puts the same load on each, repeats, and prints medians and Parley's ratios.
 *
 *   pnpm bench                 full suite (about 10 minutes)
 *   pnpm bench --quick         a short smoke of every step
 *   pnpm bench --only parley,raw --repeat 1
 *   pnpm bench --only parley --parley-nodes 1 --parley-env WS_NO_BUFFER_UTIL=1   (one lever at a time)
 *   pnpm bench --only parley,lesson --variant classic:REDIS_ADAPTER=classic --variant linger5:WRITE_LINGER_MS=5   (levers side by side)
 *   pnpm bench --only parley --rates 4 --room-sizes '' --repeat 1   (one rate: 4 msg/s per sender, 16k deliveries/s; rooms of 40 only)
 *   pnpm bench --only parley --rates 4 --repeat 1 --profile .tmp/prof   (a V8 CPU profile of each Parley node)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatReport, runLoad, type LoadOptions, type LoadReport } from '@parley/loadgen';
import { createTestDatabase, provideServices, startRedisServer } from '@parley/devcluster';
import { writeProfileWindows, type ProfileWindow } from './profile-windows.ts';
import { startLesson, startParley, startRaw, type BenchServices, type RunningTarget } from './targets.ts';
import { summarizeRuns, formatSummary, type RunSummary } from './summary.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    repeat: { type: 'string' },
    json: { type: 'string' },
    verbose: { type: 'boolean' },
    'parley-nodes': { type: 'string' },
    'parley-env': { type: 'string', multiple: true },
    variant: { type: 'string', multiple: true },
    rates: { type: 'string' },
    'room-sizes': { type: 'string' },
    profile: { type: 'string' },
    settle: { type: 'string' },
  },
});

const quick = values.quick ?? false;
const SUITES = ['parley', 'lesson', 'raw', 'polling', 'idle'] as const;
type Suite = (typeof SUITES)[number];
const only = new Set((values.only?.split(',') ?? SUITES) as Suite[]);
const repeat = Number(values.repeat ?? (quick ? 1 : 3));
const parleyNodes = Number(values['parley-nodes'] ?? 2);
/** Extra environment for Parley's nodes (KEY=VALUE), to measure one lever at a time. */
const envOf = (pairs: string[]) =>
  Object.fromEntries(
    pairs.map((kv) => {
      const eq = kv.indexOf('=');
      if (eq < 1) throw new Error(`${kv}: expected KEY=VALUE`);
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
  );
const parleyEnv = envOf(values['parley-env'] ?? []);
/**
 * `--variant NAME:KEY=VALUE[,KEY=VALUE]`: Parley once more with that environment on top, measured
 * right after Parley in the same run at every rate (rows `parley[NAME] @16k`), so one lever is
 * compared side by side with the default.
 */
const variants = (values.variant ?? []).map((spec) => {
  const colon = spec.indexOf(':');
  if (colon < 1 || !/^[\w-]+$/.test(spec.slice(0, colon))) throw new Error(`--variant ${spec}: expected NAME:KEY=VALUE[,KEY=VALUE]`);
  return {
    name: spec.slice(0, colon),
    env: envOf(
      spec
        .slice(colon + 1)
        .split(',')
        .filter(Boolean),
    ),
  };
});
/**
 * `--profile DIR`: each Parley node (DIR/parley) and lesson server (DIR/lesson) writes a V8 CPU profile (`.cpuprofile`, for Chrome DevTools,
 * speedscope or `bench/profile-summary.ts`) into DIR when it stops.
 */
const profileDir = values.profile === undefined ? undefined : resolve(values.profile);

/** The load shape (the quick one only checks that every step works). */
const SHAPE: Partial<LoadOptions> = quick
  ? { clients: 200, rooms: 10, senders: 20, rate: 8, warmup: 1, duration: 3, transport: 'websocket' }
  : { clients: 800, rooms: 20, senders: 100, rate: 8, warmup: 5, duration: 15, transport: 'websocket' };
/**
 * `--settle SEC` (default 30; none with --quick): before a target's first measured run, SEC
 * seconds of the same load, unmeasured, so that every run compares servers whose JIT has settled
 * (after a 5 s warm-up TurboFan was still compiling in Parley's nodes, and a run after 40 s of
 * load measured 46 µs per delivery against 56 for the first; the lesson server settles sooner).
 */
const SETTLE_SEC = Number(values.settle ?? (quick ? 0 : 30));
if (!(SETTLE_SEC >= 0)) throw new Error(`--settle ${values.settle}: expected seconds (0 or more)`);
/**
 * Issue 13's two rates over that shape: 4 msg/s per sender (16k deliveries/s) and 8 (32k). Every
 * target is measured at both, so each comparison is within one run.
 */
const RATES = values.rates ? values.rates.split(',').map(Number) : quick ? [SHAPE.rate ?? 8] : [4, 8];
const deliveriesK = (shape: Partial<LoadOptions>) => ((shape.clients! / shape.rooms!) * shape.senders! * shape.rate!) / 1000;
const atRate = (rate: number) => ({ shape: { ...SHAPE, rate }, label: `@${deliveriesK({ ...SHAPE, rate })}k` });
/**
 * Rooms of other sizes at the first rate's deliveries/s (issue 13: 5 and 200 members): the same
 * clients and 4 msg/s per sender, with as many senders as keep deliveries/s the same (800 in
 * rooms of 5, 20 in rooms of 200). Parley and the lesson server only.
 */
const ROOM_SIZES = values['room-sizes'] !== undefined ? values['room-sizes'].split(',').filter(Boolean).map(Number) : quick ? [] : [5, 200];
const ofRoomSize = (size: number) => {
  const rate = RATES[0]!;
  const rooms = SHAPE.clients! / size;
  const senders = Math.round((SHAPE.senders! * (SHAPE.clients! / SHAPE.rooms!)) / size);
  const shape = { ...SHAPE, rooms, senders, rate };
  return { shape, label: `@${deliveriesK(shape)}k rooms of ${size}` };
};
/**
 * The issue asks for 20k idle connections per node. These machines cap open files at 20,000
 * per process (hard limit, not raisable without CAP_SYS_RESOURCE), which the server and the
 * generator each need one of per connection, plus their own: 19k is the most that fits.
 */
const IDLE_PER_NODE = quick ? 1000 : 19_000;

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
/** Measured windows of the profiled targets, written next to their profiles (bench/profile-summary.ts reads them). */
const windows: ProfileWindow[] = [];

async function measure(name: string, target: RunningTarget, shape: Partial<LoadOptions>): Promise<RunSummary> {
  const reports: LoadReport[] = [];
  for (let i = 1; i <= repeat; i++) {
    log(`${name}: run ${i}/${repeat}`);
    const report = await runLoad({ ...shape, ...target.load, progress: values.verbose ?? false });
    if (values.verbose) process.stderr.write(`${formatReport(report)}\n`);
    log(
      `${name}: ratio ${report.deliveryRatio.toFixed(4)}, p99 ${report.latencyMs.p99.toFixed(1)} ms, ` +
        `${report.serverCpuMicrosPerDelivery.toFixed(2)} µs server CPU/delivery, generator ${report.generatorCpuPercent.toFixed(0)} %`,
    );
    reports.push(report);
    if (target.profileDir && report.window)
      windows.push({ dir: target.profileDir, run: `${name} ${i}`, delivered: report.delivered, ...report.window });
  }
  return summarizeRuns(name, reports, target.note);
}

async function measureIdle(name: string, target: RunningTarget): Promise<RunSummary> {
  const nodes = target.servers.length;
  log(`${name}: ${IDLE_PER_NODE} idle connections per node`);
  const report = await runLoad({
    ...target.load,
    idle: true,
    clients: IDLE_PER_NODE * nodes,
    users: 200,
    rooms: 1,
    senders: 0,
    // Spread over source addresses so one address's ephemeral ports are never the limit.
    sourceIps: 8,
    connectConcurrency: 200,
    progress: values.verbose ?? false,
    // RSS is measured for the server processes only (not Redis).
    serverPids: target.servers,
  });
  return summarizeRuns(name, [report], target.note);
}

const services = await provideServices();
const database = await createTestDatabase(services.postgresUrl, 'parley_bench');
const redis = await startRedisServer();
const bench: BenchServices = { redis, databaseUrl: database.url, databaseName: database.name };
const summaries: RunSummary[] = [];

async function withTarget(start: () => Promise<RunningTarget>, body: (target: RunningTarget) => Promise<void>): Promise<void> {
  const target = await start();
  try {
    await body(target);
  } finally {
    await target.stop();
  }
}

try {
  const parley = (nginx = false, env = parleyEnv, profileName = 'parley') =>
    startParley(bench, { nodes: parleyNodes, env, nginx, profileDir: profileDir && join(profileDir, profileName) });
  const atEveryRate = async (name: string, t: RunningTarget, roomSizes = ROOM_SIZES) => {
    if (SETTLE_SEC > 0) {
      log(`${name}: ${SETTLE_SEC} s of load to settle, not measured`);
      await runLoad({ ...atRate(RATES[0]!).shape, ...t.load, warmup: SETTLE_SEC, duration: 1, progress: false, counters: undefined });
    }
    for (const { shape, label } of [...RATES.map(atRate), ...roomSizes.map(ofRoomSize)])
      summaries.push(await measure(`${name} ${label}`, t, shape));
  };
  if (only.has('parley'))
    await withTarget(
      () => parley(),
      (t) => atEveryRate('parley', t),
    );
  for (const variant of only.has('parley') ? variants : [])
    await withTarget(
      () => parley(false, { ...parleyEnv, ...variant.env }, `parley-${variant.name}`),
      (t) => atEveryRate(`parley[${variant.name}]`, t, []),
    );
  if (only.has('lesson'))
    await withTarget(
      () => startLesson(bench, 2, profileDir && join(profileDir, 'lesson')),
      (t) => atEveryRate('lesson', t),
    );
  if (only.has('raw'))
    await withTarget(
      () => startRaw(),
      (t) => atEveryRate('raw-ws', t, []),
    );
  if (only.has('polling')) {
    // Long-polling through nginx (ip_hash): clients come from 64 source addresses so both nodes get some.
    const polling = { ...SHAPE, transport: 'polling' as const, sourceIps: 64 };
    await withTarget(
      () => parley(true),
      async (t) => void summaries.push(await measure('parley polling via nginx', t, polling)),
    );
  }
  if (only.has('idle')) {
    await withTarget(
      () => startParley(bench, { nodes: 1 }),
      async (t) => void summaries.push(await measureIdle('parley idle', t)),
    );
    await withTarget(
      () => startLesson(bench, 1),
      async (t) => void summaries.push(await measureIdle('lesson idle', t)),
    );
    await withTarget(
      () => startRaw(),
      async (t) => void summaries.push(await measureIdle('raw-ws idle', t)),
    );
  }
} finally {
  await redis.stop();
  await database.drop();
}
writeProfileWindows(windows);

process.stdout.write(`${formatSummary(summaries, { quick, repeat, shape: SHAPE, rates: RATES })}\n`);
const file = values.json ?? `.tmp/bench-${new Date().toISOString().replaceAll(':', '-')}.json`;
mkdirSync('.tmp', { recursive: true });
writeFileSync(file, `${JSON.stringify({ quick, repeat, shape: SHAPE, rates: RATES, summaries }, null, 2)}\n`);
log(`results: ${file}`);
