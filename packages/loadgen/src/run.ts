import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { withDefaults, type LoadOptions } from './options.ts';
import { cpuWindow, findPostgresPids, findRedisPids, rssBytes, type WatchedProcess } from './proc.ts';
import { registerUsers } from './register.ts';
import { summarize, type IdleMemory, type LoadReport } from './report.ts';
import {
  monotonicMs,
  type ClientSpec,
  type Counts,
  type FromWorker,
  type ToWorker,
  type WorkerInit,
  type WorkerReport,
} from './worker-protocol.ts';

const COUNT_POLL_MS = 200;
const WORKER_EXIT_MS = 5000;
/** Workers are TypeScript too: load them through tsx whatever runs this file (CLI, vitest). */
const TSX_ESM_API = createRequire(import.meta.url).resolve('tsx/esm/api');
const WORKER_BOOTSTRAP = `require(${JSON.stringify(TSX_ESM_API)}).tsImport(${JSON.stringify(
  new URL('./worker.ts', import.meta.url).href,
)}, __filename)`;

/** A worker thread and a way to wait for its next message of a kind. */
class WorkerHandle {
  private readonly waiters = new Map<FromWorker['type'], (message: FromWorker) => void>();
  readonly worker: Worker;

  constructor(init: WorkerInit, onProgress: (message: FromWorker & { type: 'progress' }) => void) {
    // Loader hooks from --import do not reach worker threads on Node 20: register tsx in the worker.
    this.worker = new Worker(WORKER_BOOTSTRAP, { eval: true, workerData: init });
    this.worker.on('message', (message: FromWorker) => {
      if (message.type === 'progress') onProgress(message);
      const waiter = this.waiters.get(message.type);
      this.waiters.delete(message.type);
      waiter?.(message);
    });
  }

  next<T extends FromWorker['type']>(type: T): Promise<FromWorker & { type: T }> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.worker.once('error', onError);
      this.waiters.set(type, (message) => {
        this.worker.off('error', onError);
        resolve(message as FromWorker & { type: T });
      });
    });
  }

  send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** Ask the worker to close its clients; stop it outright if it has not exited in time. */
  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.worker.once('exit', resolve));
    this.send({ type: 'close' });
    const timer = setTimeout(() => void this.worker.terminate(), WORKER_EXIT_MS);
    await exited;
    clearTimeout(timer);
  }
}

function sumRecords(records: Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const record of records) for (const [key, n] of Object.entries(record)) total[key] = (total[key] ?? 0) + n;
  return total;
}

function expectedDeliveries(sentByRoom: Record<string, number>, membersByRoom: Record<string, number>): number {
  let expected = 0;
  for (const [room, sent] of Object.entries(sentByRoom)) expected += sent * (membersByRoom[room] ?? 0);
  return expected;
}

const waitUntil = (monotonic: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, monotonic - monotonicMs())));

/** Assign each connection a target, a token, a room and whether it sends. */
function planClients(o: LoadOptions, tokens: string[]): ClientSpec[] {
  return Array.from({ length: o.clients }, (_, i) => {
    const room = o.idle ? undefined : `room-${i % o.rooms}`;
    // By block of `rooms`, so every room has members on every target.
    let url = o.targets[Math.floor(i / o.rooms) % o.targets.length]!;
    if (o.protocol === 'raw' && room !== undefined) url = `${url.replace(/\/$/, '')}/?room=${room}`;
    return {
      url,
      token: tokens.length > 0 ? tokens[i % tokens.length] : undefined,
      room,
      sender: !o.idle && i < o.senders,
      localAddress: o.sourceIps > 1 ? `127.0.0.${1 + (i % o.sourceIps)}` : undefined,
    };
  });
}

/**
 * Run one load test: register users, connect every client from worker threads, send for
 * warm-up + the measured window, wait for in-flight deliveries and report.
 */
export async function runLoad(partial: Partial<LoadOptions>): Promise<LoadReport> {
  const o = withDefaults(partial);
  const log = (line: string) => {
    if (o.progress) process.stderr.write(`[loadgen] ${line}\n`);
  };
  const auth = o.auth && o.protocol === 'socketio';
  let tokens: string[] = [];
  if (auth) {
    const users = Math.min(o.users ?? o.clients, o.clients);
    const started = monotonicMs();
    tokens = await registerUsers(o.authUrl ?? o.targets[0]!, users);
    log(`registered ${users} users in ${((monotonicMs() - started) / 1000).toFixed(1)} s`);
  }

  const specs = planClients(o, tokens);
  const rssBefore = o.serverPids.map(({ pid }) => rssBytes(pid) ?? 0);
  const progress = new Map<number, number>();
  const connectStarted = monotonicMs();
  const workers = Array.from({ length: Math.min(o.workers, o.clients) }, (_, workerId) => {
    const init: WorkerInit = {
      workerId,
      clients: specs.filter((_, i) => i % o.workers === workerId),
      protocol: o.protocol,
      transport: o.transport,
      rate: o.rate,
      ack: o.ack && o.protocol === 'socketio',
      connectConcurrency: o.connectConcurrency,
      padding: o.padding,
    };
    return new WorkerHandle(init, (message) => {
      progress.set(workerId, message.connected);
      log(`connecting: ${[...progress.values()].reduce((a, b) => a + b, 0)} / ${o.clients}`);
    });
  });

  try {
    const ready = await Promise.all(workers.map((w) => w.next('ready')));
    const connectSeconds = (monotonicMs() - connectStarted) / 1000;
    const connected = ready.reduce((n, r) => n + r.connected, 0);
    const connectFailed = ready.reduce((n, r) => n + r.failed, 0);
    const connectErrors = sumRecords(ready.map((r) => r.errors));
    const membersByRoom = sumRecords(ready.map((r) => r.connectedByRoom));
    log(`connected ${connected} (${connectFailed} failed) in ${connectSeconds.toFixed(2)} s`);
    const base = {
      shape: {
        protocol: o.protocol,
        transport: o.transport,
        targets: o.targets,
        clients: o.clients,
        rooms: o.rooms,
        senders: o.senders,
        rate: o.rate,
        warmupSec: o.warmup,
        durationSec: o.duration,
        workers: workers.length,
        idle: o.idle,
      },
      connected,
      connectFailed,
      connectErrors,
      connectSeconds,
    };

    if (o.idle) {
      const perProcess = connected / Math.max(1, o.serverPids.length);
      const idleMemory: IdleMemory[] = o.serverPids.map(({ label, pid }, i) => {
        const after = rssBytes(pid) ?? 0;
        return { label, rssBeforeBytes: rssBefore[i]!, rssAfterBytes: after, bytesPerConnection: (after - rssBefore[i]!) / perProcess };
      });
      const nan = { p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
      return {
        ...base,
        sent: 0,
        expected: 0,
        delivered: 0,
        deliveryRatio: NaN,
        deliveriesPerSec: 0,
        latencyMs: nan,
        acksOk: 0,
        ackErrors: {},
        disconnects: 0,
        cpu: [],
        serverCpuSeconds: 0,
        serverCpuMicrosPerDelivery: NaN,
        generatorCpuPercent: NaN,
        idleMemory,
      };
    }

    const watched: WatchedProcess[] = o.serverPids.map(({ label, pid }) => ({ label, pids: () => [pid] }));
    if (o.redisPort !== undefined) watched.push({ label: 'redis', pids: () => findRedisPids(o.redisPort!) });
    if (o.pgDatabase !== undefined) watched.push({ label: 'postgres', pids: () => findPostgresPids(o.pgDatabase!) });

    const measureStart = monotonicMs() + o.warmup * 1000;
    const measureEnd = measureStart + o.duration * 1000;
    for (const w of workers) w.send({ type: 'start', measureStart, measureEnd });
    log(`sending: ${o.warmup} s warm-up, then ${o.duration} s measured`);
    await waitUntil(measureStart);
    const cpu = cpuWindow(watched);
    const generatorBefore = process.cpuUsage();
    const readCounters = () =>
      o.counters?.().catch((err: unknown) => {
        log(`counters not read: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      });
    const countersBefore = await readCounters();
    await waitUntil(measureEnd);
    const samples = cpu.stop();
    const generator = process.cpuUsage(generatorBefore);
    const countersAfter = await readCounters();

    // Wait for messages still in flight, until all expected arrived or drainMs passed.
    const drainEnd = monotonicMs() + o.drainMs;
    for (;;) {
      const counts: Counts[] = await Promise.all(
        workers.map((w) => {
          const reply = w.next('counts');
          w.send({ type: 'count' });
          return reply;
        }),
      );
      const delivered = counts.reduce((n, c) => n + c.delivered, 0);
      const expected = expectedDeliveries(sumRecords(counts.map((c) => c.sentByRoom)), membersByRoom);
      if (delivered >= expected || monotonicMs() >= drainEnd) break;
      await waitUntil(monotonicMs() + COUNT_POLL_MS);
    }

    const reports: WorkerReport[] = await Promise.all(
      workers.map((w) => {
        const reply = w.next('report');
        w.send({ type: 'report' });
        return reply;
      }),
    );
    const sentByRoom = sumRecords(reports.map((r) => r.sentByRoom));
    const sent = Object.values(sentByRoom).reduce((a, b) => a + b, 0);
    const expected = expectedDeliveries(sentByRoom, membersByRoom);
    const delivered = reports.reduce((n, r) => n + r.delivered, 0);
    const all = new Float64Array(reports.reduce((n, r) => n + r.latencies.length, 0));
    let offset = 0;
    for (const r of reports) {
      all.set(r.latencies, offset);
      offset += r.latencies.length;
    }
    const serverCpuSeconds = samples.reduce((s, c) => s + c.cpuSeconds, 0);
    return {
      ...base,
      sent,
      expected,
      delivered,
      deliveryRatio: expected === 0 ? NaN : delivered / expected,
      deliveriesPerSec: delivered / o.duration,
      latencyMs: summarize(all),
      acksOk: reports.reduce((n, r) => n + r.acksOk, 0),
      ackErrors: sumRecords(reports.map((r) => r.ackErrors)),
      disconnects: reports.reduce((n, r) => n + r.disconnects, 0),
      window: { startMs: measureStart, endMs: measureEnd },
      cpu: samples,
      serverCpuSeconds,
      serverCpuMicrosPerDelivery: delivered === 0 ? NaN : (serverCpuSeconds / delivered) * 1e6,
      generatorCpuPercent: ((generator.user + generator.system) / 1e6 / o.duration) * 100,
      ...(countersBefore && countersAfter ? { counterIncrease: increase(countersBefore, countersAfter) } : {}),
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}

/** How much each counter of `after` grew since `before` (a counter absent before counts from 0). */
function increase(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([name, value]) => [name, value - (before[name] ?? 0)]));
}
