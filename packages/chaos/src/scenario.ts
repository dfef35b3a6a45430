import { randomBytes } from 'node:crypto';
import { ParleyClient, ParleyClientError, type ParleyClientOptions } from '@parley/client';
import { registerUsers, summarize, type LatencySummary } from '@parley/loadgen';
import { addressesByNode, within } from '@parley/testkit';
import { chaosOptions, type ChaosOptions } from './options.ts';
import { NODES, startChaosStack, type ChaosStack } from './stack.ts';
import { storedIdsByRoom, verifyRun, type SendRecord, type StoredRow, type Verdict } from './verify.ts';
import { Conditions, holdFor, longestGap, Pacer } from './waits.ts';

/** Milliseconds, monotonic. */
const now = () => performance.now();

/** How many clients connect at once. */
const CONNECT_BATCH = 50;
/** Failed sends listed one by one in the report. */
const MAX_FAILURES_SHOWN = 20;
/** Bound on registering every user, and on one batch of clients connecting and joining. */
const SETUP_TIMEOUT_MS = 60_000;

/** A set of durations (ms): how many, and their nearest-rank percentiles. */
export interface Spread extends LatencySummary {
  count: number;
}

function spread(values: number[]): Spread {
  return { count: values.length, ...summarize(Float64Array.from(values)) };
}

export interface KillFault {
  node: string;
  /** Clients connected to the killed node (they fail over through nginx). */
  clientsMoved: number;
  /** Of those, how many reconnected, rejoined and caught up (`onResync`) within the bound. */
  resynced: number;
  /** kill -9 → each moved client's `onResync`. */
  reconnectMs: Spread;
  /** kill -9 → the first ack of a send of a moved client. */
  firstMovedAckMs: number | null;
  /** kill -9 → the restarted node listens (same id and port). */
  nodeRestartMs: number;
  /** Longest stretch without any ack, from the kill to the next fault. */
  ackGapMs: number;
}

export interface RedisFault {
  downMs: number;
  /** Redis started → every node logged both its connections back (null: some never did). */
  nodesBackMs: number | null;
  /** Clients that caught up after the `resync` hint, of all. */
  clientsResynced: number;
  /** Redis started → each client's `onResync`. */
  resyncMs: Spread;
  /** Sends acked while Redis was down (stored; relayed to other nodes only through the resync). */
  ackedWhileDown: number;
  ackGapMs: number;
}

export interface PostgresFault {
  downMs: number;
  /** Attempts put on the wire while it was stopped (answered `unavailable`, then retried). */
  attemptsWhileDown: number;
  /** PostgreSQL started → the first ack (null: none within the bound). */
  firstAckMs: number | null;
  /** Sends still pending when it started. */
  pendingAtStart: number;
  /** PostgreSQL started → the last of those settled (null: some did not within the bound). */
  pendingSettledMs: number | null;
  ackGapMs: number;
}

export interface ChaosReport {
  options: Omit<ChaosOptions, 'log'>;
  clients: { total: number; perNode: Record<string, number> };
  /** From the first send to the end of the chat. */
  chatMs: number;
  kill: KillFault;
  redis: RedisFault;
  postgres: PostgresFault;
  /** After the chat: → every member holds every stored message of its room (null: not within the bound). */
  settleMs: number | null;
  verdict: Verdict;
  /** Error and fatal log lines of the nodes, by message. */
  errorLogs: Record<string, number>;
  /** When each fault started and ended, ms from the first send. */
  timeline: Record<'kill' | 'redisStop' | 'redisStart' | 'postgresStop' | 'postgresStart' | 'chatEnd', number>;
  /** Failed sends whose `send()` was called while the client's connection was down. */
  failedWhileDisconnected: number;
  /** The first failed sends: when (ms from the first send), how, and whether the client was connected when it called send(). */
  failures: { text: string; startedAt: number; settledAt: number; error: string; connectedAtCall: boolean }[];
  /**
   * Stored messages some member never got (the first ones): who sent it from which node, when
   * (ms from the first send), in how many attempts, and which members missed it.
   */
  missed: {
    id: number;
    text: string;
    author: string;
    sentAt?: number;
    settledAt?: number;
    attempts: number;
    missedBy: Record<string, number>;
  }[];
  /** Members that missed messages: when their connection dropped, they got a 'resync' hint, sent 'sync', resynced (ms from the first send). */
  incomplete: {
    client: number;
    node: string;
    room: string;
    missing: number;
    drops: number[];
    hints: number[];
    syncs: number[];
    resyncs: number[];
  }[];
  /** Everything wrong besides the verdict's counts: crashes, recoveries that did not happen, hangs. */
  problems: string[];
  ok: boolean;
}

interface Member {
  index: number;
  room: string;
  /** The node nginx sends its address to while that node is up. */
  node: string;
  client: ParleyClient;
  counts: Map<number, number>;
  resyncs: number[];
  /** During the settle phase: stored ids of its room it has not been handed yet. */
  awaiting?: Set<number>;
  /** When its connection dropped, when it got a 'resync' hint, when it sent 'sync' (diagnostics). */
  drops: number[];
  hints: number[];
  syncs: number[];
}

interface Send extends SendRecord {
  startedAt: number;
  settledAt?: number;
  /** Whether the client's connection was up when `send()` was called. */
  connectedAtCall: boolean;
}

/** The stored messages members are still waiting for, each with who missed it (by the node they started on). */
function missedMessages(members: Member[], rows: StoredRow[], sendsByText: Map<string, Send>, chatStart: number): ChaosReport['missed'] {
  const byId = new Map<number, ChaosReport['missed'][number]>();
  for (const m of members) {
    for (const id of m.awaiting ?? []) {
      let missed = byId.get(id);
      if (!missed) {
        const row = rows.find((r) => r.id === id);
        const send = sendsByText.get(row?.text ?? '');
        missed = {
          id,
          text: row?.text ?? '?',
          author: send ? members[send.client]!.node : '?',
          sentAt: send && send.startedAt - chatStart,
          settledAt: send?.settledAt && send.settledAt - chatStart,
          attempts: send?.clientIds.length ?? 0,
          missedBy: {},
        };
        byId.set(id, missed);
      }
      missed.missedBy[m.node] = (missed.missedBy[m.node] ?? 0) + 1;
    }
  }
  return [...byId.values()].sort((a, b) => a.id - b.id).slice(0, MAX_FAILURES_SHOWN);
}

function reasonOf(err: unknown): string {
  if (err instanceof ParleyClientError) return err.code;
  return err instanceof Error ? err.message : String(err);
}

/**
 * One chaos run: a private cluster (stack.ts), `clients` @parley/client clients chatting
 * through nginx, and during the chat: kill -9 of node-1 (restarted at once), Redis stopped
 * and started on its port, PostgreSQL stopped for `postgresDownMs`. Then every member is
 * given time to catch up, and the run is checked against the database (verify.ts).
 */
export async function runChaos(partial: Partial<ChaosOptions> = {}): Promise<ChaosReport> {
  const o = chaosOptions(partial);
  const log = o.log;
  const stack = await startChaosStack(log, o.logDir);
  const members: Member[] = [];
  const pacer = new Pacer();
  try {
    return await chat(o, stack, members, pacer);
  } finally {
    pacer.stop();
    for (const m of members) m.client.close();
    await stack.stop();
  }
}

async function chat(o: ChaosOptions, stack: ChaosStack, members: Member[], pacer: Pacer): Promise<ChaosReport> {
  const log = o.log;
  const conditions = new Conditions();
  const nodeIds = stack.nodes.map((n) => n.nodeId);
  const addresses = await addressesByNode(stack.nginxUrl, nodeIds, o.addressesPerNode);
  const tokens = await within('registering the users', registerUsers(stack.nodes[0]!.url, o.clients), SETUP_TIMEOUT_MS);
  const run = randomBytes(3).toString('hex');
  const rooms = Array.from({ length: o.rooms }, (_, r) => `chaos-${run}-${r}`);

  const sends: Send[] = [];
  const sendsByText = new Map<string, Send>();
  /** Every ok ack, in the order they came. */
  const acks: { at: number; member: Member }[] = [];
  /** When each attempt of a send went on the wire. */
  const attempts: number[] = [];
  const tally = { awaiting: 0 };

  for (let i = 0; i < o.clients; i++) {
    // By block of `rooms`, so that every room has members on every node.
    const node = nodeIds[Math.floor(i / o.rooms) % NODES]!;
    const own = addresses.get(node)!;
    const options: ParleyClientOptions = {
      url: stack.nginxUrl,
      token: tokens[i]!,
      ackTimeoutMs: o.ackTimeoutMs,
      sendTimeoutMs: o.sendTimeoutMs,
      socket: { transports: ['websocket'], localAddress: own[Math.floor(i / (o.rooms * NODES)) % own.length] } as object,
    };
    const member: Member = {
      index: i,
      room: rooms[i % o.rooms]!,
      node,
      client: new ParleyClient(options),
      counts: new Map(),
      resyncs: [],
      drops: [],
      hints: [],
      syncs: [],
    };
    members.push(member);
    member.client.onMessage((m) => {
      member.counts.set(m.id, (member.counts.get(m.id) ?? 0) + 1);
      if (member.awaiting?.delete(m.id)) tally.awaiting--;
      conditions.poke();
    });
    member.client.socket.on('disconnect', () => member.drops.push(now()));
    member.client.socket.on('resync', () => member.hints.push(now()));
    member.client.onResync(() => {
      member.resyncs.push(now());
      conditions.poke();
    });
    // Every attempt of a send, first and retries, with the clientId it carries.
    member.client.socket.onAnyOutgoing((event: string, payload: { text?: string; clientId?: string }) => {
      if (event === 'sync') member.syncs.push(now());
      if (event !== 'chatMessage') return;
      attempts.push(now());
      sendsByText.get(payload.text ?? '')?.clientIds.push(payload.clientId ?? '(none)');
    });
  }
  for (let start = 0; start < members.length; start += CONNECT_BATCH) {
    const batch = members.slice(start, start + CONNECT_BATCH);
    await within(
      `clients ${start}-${start + batch.length - 1} to connect and join`,
      Promise.all(
        batch.map(async (m) => {
          await m.client.connected();
          await m.client.join(m.room);
        }),
      ),
      SETUP_TIMEOUT_MS,
    );
  }
  const perNode: Record<string, number> = {};
  for (const m of members) perNode[m.node] = (perNode[m.node] ?? 0) + 1;
  log(
    `${members.length} clients in ${o.rooms} rooms (${Object.entries(perNode)
      .map(([n, c]) => `${n}: ${c}`)
      .join(', ')})`,
  );

  // Each client sends one message at a time, a paced gap after each outcome.
  const interval = 1000 / o.rate;
  const talk = async (m: Member) => {
    await pacer.gap(Math.random() * interval);
    for (let seq = 0; !pacer.stopped; seq++) {
      const send: Send = {
        client: m.index,
        room: m.room,
        text: `${m.index}:${seq}`,
        clientIds: [],
        startedAt: now(),
        connectedAtCall: m.client.socket.connected,
      };
      sends.push(send);
      sendsByText.set(send.text, send);
      try {
        send.id = await m.client.send(m.room, send.text);
        acks.push({ at: now(), member: m });
      } catch (err) {
        send.error = reasonOf(err);
      }
      send.settledAt = now();
      conditions.poke();
      await pacer.gap(interval * (0.5 + Math.random()));
    }
  };
  const chatStart = now();
  for (const m of members) void talk(m);
  const problems: string[] = [];
  const firstAckAfter = (at: number, of: (m: Member) => boolean = () => true) => {
    const ack = acks.find((a) => a.at >= at && of(a.member));
    return ack === undefined ? null : ack.at - at;
  };

  // Phase 1: steady chat. Then kill -9 node-1, restarted at once as a supervisor would.
  await holdFor(o.phaseMs);
  const victim = stack.nodes[0]!;
  const moved = members.filter((m) => m.node === victim.nodeId);
  const killAt = now();
  await stack.kill(0);
  log(`kill -9 ${victim.nodeId} (${moved.length} clients)`);
  // Settles either way (awaited only after the next phase): a failed start is thrown there.
  const restarted = stack.restart(0).then(
    () => ({ ms: now() - killAt }),
    (err: unknown) => ({ err }),
  );
  const movedBack = await conditions.until(() => moved.every((m) => m.resyncs.some((t) => t >= killAt)), o.recoverTimeoutMs);
  const reconnects = moved.flatMap((m) => {
    const t = m.resyncs.find((r) => r >= killAt);
    return t === undefined ? [] : [t - killAt];
  });
  if (!movedBack)
    problems.push(`kill -9: ${moved.length - reconnects.length} clients of ${victim.nodeId} not resynced within ${o.recoverTimeoutMs} ms`);
  log(`  clients resynced: ${reconnects.length}/${moved.length}`);

  // Phase 2, while the node restarts (its start-up is CPU-heavy: seconds on a loaded machine).
  // Then, once it listens, Redis stopped and started on its port (empty).
  await holdFor(o.phaseMs);
  const restart = await restarted;
  if ('err' in restart) throw restart.err;
  const nodeRestartMs = restart.ms;
  log(`  ${victim.nodeId} restarted after ${nodeRestartMs.toFixed(0)} ms`);
  const redisHaltAt = now();
  const redisHaltWall = Date.now();
  const backBound = o.redisDownMs + o.recoverTimeoutMs;
  const nodesBack = stack.nodes.flatMap((n) =>
    (['pub', 'sub'] as const).map((role): Promise<number | null> =>
      n
        .nextLog(
          `redis ${role} connection back`,
          (e) => e.msg === 'redis connection back' && e.role === role && (e.time as number) >= redisHaltWall,
          backBound,
        )
        .then(
          () => now(),
          () => null,
        ),
    ),
  );
  await stack.redis.halt();
  log('redis stopped');
  await holdFor(o.redisDownMs);
  await stack.redis.start();
  const redisStartAt = now();
  const backTimes = await Promise.all(nodesBack);
  const backAt = backTimes.filter((t) => t !== null);
  const nodesBackMs = backAt.length === backTimes.length ? Math.max(...backAt) - redisStartAt : null;
  if (nodesBackMs === null) problems.push(`redis: ${backTimes.length - backAt.length} node connections not back within ${backBound} ms`);
  const allResynced = await conditions.until(() => members.every((m) => m.resyncs.some((t) => t >= redisStartAt)), o.recoverTimeoutMs);
  const redisResyncs = members.flatMap((m) => {
    const t = m.resyncs.find((r) => r >= redisStartAt);
    return t === undefined ? [] : [t - redisStartAt];
  });
  if (!allResynced) problems.push(`redis: ${members.length - redisResyncs.length} clients not resynced within ${o.recoverTimeoutMs} ms`);
  log(`redis started; nodes back after ${nodesBackMs?.toFixed(0)} ms, clients resynced: ${redisResyncs.length}/${members.length}`);

  // Phase 3. Then PostgreSQL stopped for postgresDownMs.
  await holdFor(o.phaseMs);
  const pgHaltAt = now();
  await stack.postgres.halt();
  log('postgres stopped');
  await holdFor(o.postgresDownMs);
  await stack.postgres.start();
  const pgStartAt = now();
  const pending = sends.filter((s) => s.settledAt === undefined);
  const acking = await conditions.until(() => (acks.at(-1)?.at ?? 0) >= pgStartAt, o.recoverTimeoutMs);
  if (!acking) problems.push(`postgres: no send acked within ${o.recoverTimeoutMs} ms of its start`);
  const pendingBound = o.sendTimeoutMs + o.ackTimeoutMs;
  const pendingSettled = await conditions.until(() => pending.every((s) => s.settledAt !== undefined), pendingBound);
  if (!pendingSettled) problems.push(`postgres: sends pending at its start not settled within ${pendingBound} ms`);
  const pgFirstAck = firstAckAfter(pgStartAt);
  log(`postgres started; first ack after ${pgFirstAck?.toFixed(0)} ms, ${pending.length} pending sends settled`);

  // Phase 4. Then the chat stops: every send settles (acked, or failed after sendTimeoutMs).
  await holdFor(o.phaseMs);
  pacer.stop();
  const chatEnd = now();
  const settleBound = o.sendTimeoutMs + o.ackTimeoutMs;
  if (!(await conditions.until(() => sends.every((s) => s.settledAt !== undefined), settleBound))) {
    problems.push(
      `${sends.filter((s) => s.settledAt === undefined).length} sends still unsettled ${settleBound} ms after the chat stopped`,
    );
  }

  // Every member must come to hold every stored message of its room, live or caught up.
  const readRows = async (): Promise<StoredRow[]> =>
    (
      await stack.db.query<{ id: string; room: string; author_id: number; client_id: string | null; text: string }>(
        'SELECT id, room, author_id, client_id, text FROM messages WHERE room = ANY($1) ORDER BY id',
        [rooms],
      )
    ).map((r) => ({ id: Number(r.id), room: r.room, authorId: r.author_id, clientId: r.client_id, text: r.text }));
  const stored = await readRows();
  const byRoom = storedIdsByRoom(stored);
  for (const m of members) {
    m.awaiting = new Set([...(byRoom.get(m.room) ?? [])].filter((id) => !m.counts.has(id)));
    tally.awaiting += m.awaiting.size;
  }
  const settleStart = now();
  const settled = await conditions.until(() => tally.awaiting === 0, o.settleTimeoutMs);
  const settleMs = settled ? now() - settleStart : null;
  const final = await readRows();
  if (final.length !== stored.length) problems.push(`${final.length - stored.length} messages stored after every send had settled`);
  log(`settled: ${settled ? `every member has every message after ${settleMs?.toFixed(0)} ms` : `${tally.awaiting} deliveries missing`}`);

  const verdict = verifyRun(
    sends,
    final,
    members.map((m) => ({ client: m.index, room: m.room, counts: m.counts })),
  );
  problems.push(...stack.crashes);
  const errorLogs: Record<string, number> = {};
  for (const e of stack.errorLogs()) {
    const err = e.err as { message?: string } | undefined;
    const key = `${String(e.msg)}${err?.message ? `: ${err.message}` : ''}`;
    errorLogs[key] = (errorLogs[key] ?? 0) + 1;
  }
  const gap = (from: number, to: number) =>
    longestGap(
      acks.map((a) => a.at),
      from,
      to,
    );
  const { log: _log, ...shown } = o;
  return {
    options: shown,
    clients: { total: members.length, perNode },
    chatMs: chatEnd - chatStart,
    kill: {
      node: victim.nodeId,
      clientsMoved: moved.length,
      resynced: reconnects.length,
      reconnectMs: spread(reconnects),
      firstMovedAckMs: firstAckAfter(killAt, (m) => m.node === victim.nodeId),
      nodeRestartMs,
      ackGapMs: gap(killAt, redisHaltAt),
    },
    redis: {
      downMs: redisStartAt - redisHaltAt,
      nodesBackMs,
      clientsResynced: redisResyncs.length,
      resyncMs: spread(redisResyncs),
      ackedWhileDown: acks.filter((a) => a.at >= redisHaltAt && a.at < redisStartAt).length,
      ackGapMs: gap(redisHaltAt, pgHaltAt),
    },
    postgres: {
      downMs: pgStartAt - pgHaltAt,
      attemptsWhileDown: attempts.filter((t) => t >= pgHaltAt && t < pgStartAt).length,
      firstAckMs: pgFirstAck,
      pendingAtStart: pending.length,
      pendingSettledMs: pendingSettled ? Math.max(pgStartAt, ...pending.map((s) => s.settledAt!)) - pgStartAt : null,
      ackGapMs: gap(pgHaltAt, chatEnd),
    },
    settleMs,
    verdict,
    timeline: {
      kill: killAt - chatStart,
      redisStop: redisHaltAt - chatStart,
      redisStart: redisStartAt - chatStart,
      postgresStop: pgHaltAt - chatStart,
      postgresStart: pgStartAt - chatStart,
      chatEnd: chatEnd - chatStart,
    },
    failedWhileDisconnected: sends.filter((f) => f.error !== undefined && !f.connectedAtCall).length,
    failures: sends
      .filter((f) => f.error !== undefined)
      .slice(0, MAX_FAILURES_SHOWN)
      .map((f) => ({
        text: f.text,
        startedAt: f.startedAt - chatStart,
        settledAt: (f.settledAt ?? NaN) - chatStart,
        error: f.error!,
        connectedAtCall: f.connectedAtCall,
      })),
    missed: missedMessages(members, final, sendsByText, chatStart),
    incomplete: members
      .filter((m) => (m.awaiting?.size ?? 0) > 0)
      .slice(0, MAX_FAILURES_SHOWN)
      .map((m) => ({
        client: m.index,
        node: m.node,
        room: m.room,
        missing: m.awaiting!.size,
        drops: m.drops.map((t) => t - chatStart),
        hints: m.hints.map((t) => t - chatStart),
        syncs: m.syncs.map((t) => t - chatStart),
        resyncs: m.resyncs.map((t) => t - chatStart),
      })),
    errorLogs,
    problems,
    ok: verdict.ok && problems.length === 0,
  };
}
