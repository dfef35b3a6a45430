import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cpuSeconds, findPostgresPids, formatReport, rssBytes, runLoad, summarize } from '@parley/loadgen';
import { startNodeWithDatabase, type TestNodeWithDatabase } from '@parley/testkit';

let node: TestNodeWithDatabase;
beforeAll(async () => {
  node = await startNodeWithDatabase(inject('postgresUrl'));
});
afterAll(async () => {
  await node?.close();
});

describe('loadgen', () => {
  it('summarizes latencies by nearest rank', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(summarize(values)).toEqual({ p50: 50, p95: 95, p99: 99, max: 100, mean: 50.5 });
  });

  it('reads CPU time and RSS from /proc, and finds a database’s PostgreSQL backends', () => {
    expect(cpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(rssBytes(process.pid)).toBeGreaterThan(10 * 2 ** 20);
    expect(cpuSeconds(2 ** 22 + 1)).toBeUndefined();
    expect(findPostgresPids(node.db.name).length).toBeGreaterThan(0);
  });

  // 2.5 s of load, plus registering and connecting: generous for a busy 2-core machine.
  it('registers users, chats from worker threads and delivers every message', { timeout: 90_000 }, async () => {
    // Counters are read once when the window opens and once when it closes.
    let reads = 0;
    const report = await runLoad({
      targets: [node.url],
      clients: 20,
      rooms: 4,
      senders: 4,
      rate: 5,
      warmup: 0.5,
      duration: 2,
      workers: 2,
      serverPids: [{ label: 'node', pid: process.pid }],
      pgDatabase: node.db.name,
      progress: false,
      counters: () => Promise.resolve({ reads: ++reads, constant: 7 }),
    });
    expect(report.counterIncrease).toEqual({ reads: 1, constant: 0 });
    expect(report.connected).toBe(20);
    expect(report.connectFailed).toBe(0);
    expect(report.sent).toBeGreaterThan(20);
    // Each message goes to the 5 members of its room, the sender included.
    expect(report.expected).toBe(report.sent * 5);
    expect(report.deliveryRatio).toBe(1);
    expect(report.ackErrors).toEqual({});
    expect(report.acksOk).toBeGreaterThanOrEqual(report.sent);
    expect(report.disconnects).toBe(0);
    expect(report.latencyMs.p50).toBeGreaterThan(0);
    expect(report.latencyMs.p99).toBeGreaterThanOrEqual(report.latencyMs.p50);
    expect(report.cpu.map((c) => c.label)).toEqual(['node', 'postgres']);
    expect(report.serverCpuMicrosPerDelivery).toBeGreaterThan(0);
    expect(formatReport(report)).toContain('delivered / expected');
  });
});
