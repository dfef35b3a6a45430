import type { CpuSample } from './proc.ts';

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface IdleMemory {
  label: string;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** RSS growth divided by the connections this process holds. */
  bytesPerConnection: number;
}

/** Everything one load run measured; `pnpm bench` and the CLI print it. */
export interface LoadReport {
  shape: {
    protocol: string;
    transport: string;
    targets: string[];
    clients: number;
    rooms: number;
    senders: number;
    rate: number;
    warmupSec: number;
    durationSec: number;
    workers: number;
    idle: boolean;
  };
  connected: number;
  connectFailed: number;
  connectErrors: Record<string, number>;
  /** Seconds from the first connect to the last client joined. */
  connectSeconds: number;
  /** Messages sent inside the measured window. */
  sent: number;
  /** Deliveries those messages should cause (each one to every member of its room). */
  expected: number;
  delivered: number;
  deliveryRatio: number;
  deliveriesPerSec: number;
  latencyMs: LatencySummary;
  acksOk: number;
  ackErrors: Record<string, number>;
  disconnects: number;
  /**
   * The measured window on the machine's monotonic clock (process.hrtime's, which V8 CPU profiles
   * also use), in ms: a profile's samples can be cut to it. Absent for an idle run.
   */
  window?: { startMs: number; endMs: number };
  /** CPU of each watched server process over the measured window. */
  cpu: CpuSample[];
  /** Sum of `cpu` (servers, Redis, PostgreSQL). */
  serverCpuSeconds: number;
  /** serverCpuSeconds per delivery, in microseconds. */
  serverCpuMicrosPerDelivery: number;
  /** The generator's own CPU over the window (all its threads), percent of one core. */
  generatorCpuPercent: number;
  /** How much each of `LoadOptions.counters` grew over the measured window. */
  counterIncrease?: Record<string, number>;
  idleMemory?: IdleMemory[];
}

/** Percentiles by the nearest-rank method over an exact sample. */
export function summarize(values: Float64Array): LatencySummary {
  if (values.length === 0) return { p50: NaN, p95: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = values.slice().sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

const ms = (v: number) => (Number.isNaN(v) ? '-' : v.toFixed(2));

/** A readable table of one report. */
export function formatReport(r: LoadReport): string {
  const rows: [string, string][] = [
    [
      'shape',
      r.shape.idle
        ? `${r.shape.protocol}/${r.shape.transport} ${r.shape.clients} idle clients`
        : `${r.shape.protocol}/${r.shape.transport} ${r.shape.clients} clients, ${r.shape.rooms} rooms, ${r.shape.senders} senders x ${r.shape.rate}/s`,
    ],
    ['targets', r.shape.targets.join(' ')],
    ['connected', `${r.connected} (${r.connectFailed} failed) in ${r.connectSeconds.toFixed(2)} s`],
  ];
  for (const [error, n] of Object.entries(r.connectErrors)) rows.push(['  connect error', `${n} x ${error}`]);
  if (r.idleMemory) {
    for (const m of r.idleMemory) {
      rows.push([
        `rss ${m.label}`,
        `${(m.rssBeforeBytes / 2 ** 20).toFixed(1)} -> ${(m.rssAfterBytes / 2 ** 20).toFixed(1)} MiB, ${(m.bytesPerConnection / 1024).toFixed(2)} KiB/connection`,
      ]);
    }
  } else {
    rows.push(
      ['window', `${r.shape.durationSec} s after ${r.shape.warmupSec} s warm-up`],
      ['sent', String(r.sent)],
      ['delivered / expected', `${r.delivered} / ${r.expected} = ${r.deliveryRatio.toFixed(4)}`],
      ['deliveries/s', r.deliveriesPerSec.toFixed(0)],
      ['latency ms p50/p95/p99/max', `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p95)} / ${ms(r.latencyMs.p99)} / ${ms(r.latencyMs.max)}`],
      ['acks ok', String(r.acksOk)],
    );
    for (const [code, n] of Object.entries(r.ackErrors)) rows.push(['  ack error', `${n} x ${code}`]);
    rows.push(['disconnects', String(r.disconnects)]);
    for (const c of r.cpu) rows.push([`cpu ${c.label}`, `${c.cpuPercent.toFixed(1)} % (${c.cpuSeconds.toFixed(2)} s)`]);
    rows.push(
      ['server cpu / delivery', `${r.serverCpuMicrosPerDelivery.toFixed(2)} µs`],
      ['generator cpu', `${r.generatorCpuPercent.toFixed(1)} %`],
    );
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
