import { describe, expect, it } from 'vitest';
import { formatChaosReport, runChaos } from '@parley/chaos';

// `pnpm chaos`, shortened: its own PostgreSQL, Redis, 3 gateway processes and nginx; 60
// @parley/client clients in 3 rooms chatting through nginx while node-1 is killed with SIGKILL
// (and restarted), Redis is stopped and started, PostgreSQL is stopped for 3 s. The same
// scenario code as the script (packages/chaos); the checks are against the database.
describe('chaos under load', () => {
  it(
    'kill -9, Redis restart, PostgreSQL stop: every acked message stored once, every member gets every message once',
    { timeout: 240_000 },
    async () => {
      const report = await runChaos({
        clients: 60,
        rooms: 3,
        rate: 0.5,
        phaseMs: 1500,
        redisDownMs: 1000,
        postgresDownMs: 3000,
        recoverTimeoutMs: 20_000,
        settleTimeoutMs: 15_000,
      });
      console.log(formatChaosReport(report));
      const v = report.verdict;

      // Nothing crashed, every fault was recovered from within its bound.
      expect(report.problems).toEqual([]);
      expect(report.kill.resynced).toBe(report.kill.clientsMoved);
      expect(report.kill.clientsMoved).toBe(report.clients.perNode['node-1']);
      expect(report.redis.clientsResynced).toBe(60);
      expect(report.postgres.firstAckMs).not.toBeNull();
      // The faults happened under load: sends acked while Redis was down, retried while PostgreSQL was.
      expect(report.redis.ackedWhileDown).toBeGreaterThan(0);
      expect(report.postgres.attemptsWhileDown).toBeGreaterThan(report.postgres.pendingAtStart);

      // Every acked send stored once, under its one clientId; nothing stored twice or from nowhere.
      // Under load: at least what the steady phases alone carry (60 clients × 0.5 msg/s × 4 phases
      // × 1.5 s = 180), less a fifth for start-up jitter. The fault phases add more, by how long
      // the recoveries take (a fixed 300 failed once with compiled nodes recovering faster: 299).
      expect(v.sends.acked).toBeGreaterThanOrEqual(60 * 0.5 * 4 * 1.5 * 0.8);
      expect(v.lost).toBe(0);
      expect(v.duplicated).toBe(0);
      expect(v.phantom).toBe(0);
      expect(v.stored).toBe(v.sends.acked + v.sends.failedButStored);
      // Sends answered `unavailable` (or whose ack was lost) were retried with the same clientId
      // and ended acked.
      expect(v.sends.retried).toBeGreaterThan(0);
      expect(v.sends.retriedAcked).toBe(v.sends.retried);
      expect(v.sends.clientIdChanged).toBe(0);
      expect(v.sends.clientIdMismatch).toBe(0);
      // No send failed: not after retrying for sendTimeoutMs, and not one called while the
      // connection was down (it waits for the rejoin; packages/client/test/chaos-findings.test.ts).
      expect(v.sends.failedBy).toEqual({});
      expect(v.sends.failed).toBe(0);

      // Every member, failed over or not, holds every stored message of its room exactly once.
      expect(v.deliveries.missing).toBe(0);
      expect(v.deliveries.duplicated).toBe(0);
      expect(v.deliveries.unexpected).toBe(0);
      expect(v.deliveries.completeClients).toBe(60);
      expect(v.examples).toEqual([]);
      expect(report.ok).toBe(true);
    },
  );
});
