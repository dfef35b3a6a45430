import type { ChaosReport, Spread } from './scenario.ts';

const ms = (v: number | null) => (v === null || Number.isNaN(v) ? '-' : `${(v / 1000).toFixed(2)} s`);
const spreadOf = (s: Spread) => (s.count === 0 ? '-' : `p50 ${ms(s.p50)}, p95 ${ms(s.p95)}, max ${ms(s.max)} (${s.count})`);

/** The summary `pnpm chaos` prints. */
export function formatChaosReport(r: ChaosReport): string {
  const v = r.verdict;
  const o = r.options;
  const rows: [string, string][] = [
    [
      'shape',
      `${r.clients.total} clients, ${o.rooms} rooms, ${o.rate} msg/s each, 3 nodes behind nginx (${Object.values(r.clients.perNode).join(' / ')})`,
    ],
    ['chat', `${ms(r.chatMs)}`],
    ['sends', `${v.sends.total}: acked ${v.sends.acked}, failed ${v.sends.failed}`],
  ];
  for (const [reason, n] of Object.entries(v.sends.failedBy)) rows.push(['  failed', `${n} x ${reason}`]);
  rows.push(
    ['  failed, called while down', String(r.failedWhileDisconnected)],
    ['  failed but stored', String(v.sends.failedButStored)],
    [
      '  retried (same clientId)',
      `${v.sends.retried}: ${v.sends.retriedAcked} acked, ${v.sends.retriedFailed} failed; at most ${v.sends.maxAttempts} attempts`,
    ],
    ['  clientId changed / mismatch', `${v.sends.clientIdChanged} / ${v.sends.clientIdMismatch}`],
    ['stored', String(v.stored)],
    ['LOST (acked, not stored)', String(v.lost)],
    ['DUPLICATED (stored twice)', String(v.duplicated)],
    ['phantom rows', String(v.phantom)],
    ['deliveries expected', String(v.deliveries.expected)],
    ['MISSING deliveries', String(v.deliveries.missing)],
    ['DUPLICATE deliveries', String(v.deliveries.duplicated)],
    ['unexpected deliveries', String(v.deliveries.unexpected)],
    ['complete members', `${v.deliveries.completeClients} / ${r.clients.total}, settled ${ms(r.settleMs)} after the chat`],
    ['kill -9', `${r.kill.node}: ${r.kill.resynced}/${r.kill.clientsMoved} clients failed over and resynced`],
    ['  reconnect + resync', spreadOf(r.kill.reconnectMs)],
    ['  first ack of a moved client', ms(r.kill.firstMovedAckMs)],
    ['  node restarted', ms(r.kill.nodeRestartMs)],
    ['  longest ack gap', ms(r.kill.ackGapMs)],
    ['redis restart', `down ${ms(r.redis.downMs)}, ${r.redis.ackedWhileDown} sends acked meanwhile`],
    ['  nodes reconnected', ms(r.redis.nodesBackMs)],
    ['  clients resynced', `${r.redis.clientsResynced}/${r.clients.total}: ${spreadOf(r.redis.resyncMs)}`],
    ['  longest ack gap', ms(r.redis.ackGapMs)],
    ['postgres stop', `down ${ms(r.postgres.downMs)}, ${r.postgres.attemptsWhileDown} attempts meanwhile`],
    ['  first ack after start', ms(r.postgres.firstAckMs)],
    ['  pending sends settled', `${r.postgres.pendingAtStart} after ${ms(r.postgres.pendingSettledMs)}`],
    ['  longest ack gap', ms(r.postgres.ackGapMs)],
  );
  const t = r.timeline;
  rows.push([
    'timeline',
    `kill -9 at ${ms(t.kill)}, redis down ${ms(t.redisStop)}-${ms(t.redisStart)}, postgres down ${ms(t.postgresStop)}-${ms(t.postgresStart)}, end ${ms(t.chatEnd)}`,
  ]);
  for (const f of r.failures) {
    rows.push([
      'failed send',
      `"${f.text}" ${f.error}: called at ${ms(f.startedAt)} (${f.connectedAtCall ? 'connected' : 'disconnected'}), failed at ${ms(f.settledAt)}`,
    ]);
  }
  for (const m of r.missed) {
    const by = Object.entries(m.missedBy)
      .map(([node, n]) => `${n} on ${node}`)
      .join(', ');
    rows.push([
      'missed message',
      `${m.id} "${m.text}" from ${m.author}, sent at ${ms(m.sentAt ?? null)}, acked at ${ms(m.settledAt ?? null)} after ${m.attempts} attempts; missed by ${by}`,
    ]);
  }
  for (const [msg, n] of Object.entries(r.errorLogs)) rows.push(['node error log', `${n} x ${msg}`]);
  for (const p of r.problems) rows.push(['PROBLEM', p]);
  for (const e of v.examples) rows.push(['example', e]);
  rows.push(['result', r.ok ? 'OK: nothing lost, duplicated or missing' : 'FAILED']);
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(width)}  ${val}`).join('\n');
}
