// Presence benchmark (not a test): join/leave churn in a room of MEMBERS users. The members are
// simulated straight in Redis (no sockets); WATCHERS real sockets sit in the room and one more
// socket joins and leaves it CHURN times. Prints, per run and as medians of RUNS runs:
//   presence ops/s and Redis time per op (INFO commandstats: EVALSHA µs per call) of
//   join + leave through the node's presence, without sockets;
//   socket churn: join/leave events per second, the join ack latency, and the JSON bytes one
//   member receives per churn event (roomUsers + system messages) -> bytes per churn event
//   for the whole room (x MEMBERS), beside what a full list per event would cost.
// Usage: pnpm bench:presence   (env: MEMBERS=100000 CHURN=400 OPS=4000 RUNS=3 WATCHERS=3;
// REDIS_URL / DATABASE_URL default to the local services)
import type { Ack, RoomUsers } from '@parley/protocol';
import { connect, createTestDatabase, provideServices, registerUser, request, simulateRoomMembers, startNode } from '@parley/testkit';
import { Redis } from 'ioredis';
import { median } from './summary.ts';

const MEMBERS = Number(process.env.MEMBERS ?? 100_000);
const CHURN = Number(process.env.CHURN ?? 400);
const OPS = Number(process.env.OPS ?? 4000);
const RUNS = Number(process.env.RUNS ?? 3);
const WATCHERS = Number(process.env.WATCHERS ?? 3);

const services = await provideServices();
const db = await createTestDatabase(services.postgresUrl, 'parley_bench');
const keyPrefix = `parley-bench-presence-${process.pid}`;
const node = await startNode({
  DATABASE_URL: db.url,
  REDIS_URL: services.redisUrl,
  REDIS_KEY_PREFIX: keyPrefix,
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_SEC: '100000',
  RATE_LIMIT_BURST: '100000',
});
const redis = new Redis(services.redisUrl);
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/** µs and calls of EVALSHA / EVAL so far (every presence script). */
async function scriptStats(): Promise<{ usec: number; calls: number }> {
  const info = await redis.info('commandstats');
  let usec = 0;
  let calls = 0;
  for (const m of info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+),usec=(\d+)/g)) {
    calls += Number(m[1]);
    usec += Number(m[2]);
  }
  return { usec, calls };
}

interface Run {
  opsPerSec: number;
  redisUsPerOp: number;
  churnPerSec: number;
  ackP50Ms: number;
  bytesPerMemberPerChurn: number;
}

try {
  const users = await Promise.all(Array.from({ length: WATCHERS + 1 }, () => registerUser(node.url)));
  const runs: Run[] = [];
  let fullListBytes = 0;
  for (let run = 1; run <= RUNS; run++) {
    const room = `bench-${run}`;
    const seedStart = performance.now();
    const names = await simulateRoomMembers({ url: services.redisUrl, clusterNodes: undefined }, { keyPrefix, room, count: MEMBERS });
    fullListBytes = bytes({ room, users: names });
    console.log(`run ${run}: ${MEMBERS} members simulated in Redis in ${(performance.now() - seedStart).toFixed(0)} ms`);

    // 1. Presence alone: join + leave of socketless users, one after the other.
    const before = await scriptStats();
    const opsStart = performance.now();
    for (let i = 0; i < OPS / 2; i++) {
      const member = { socketId: `b${i}`, userId: 2_000_000 + i, username: `b${i}` };
      await node.app.presence.join(room, member);
      await node.app.presence.leave(room, member);
    }
    const opsSec = (performance.now() - opsStart) / 1000;
    const after = await scriptStats();
    const redisUsPerOp = (after.usec - before.usec) / (after.calls - before.calls);

    // 2. Sockets: watchers in the room, one churner joining and leaving.
    const sockets = await Promise.all(users.map((u) => connect(node.url, '/', u.token)));
    const [churner, ...watchers] = sockets as [(typeof sockets)[0], ...typeof sockets];
    for (const w of watchers) await request(w, 'join', { room });
    let received = 0;
    watchers[0]?.onAny((event: string, payload: unknown) => {
      if (event === 'roomUsers' || event === 'message') received += bytes(payload);
    });
    const acks: number[] = [];
    const churnStart = performance.now();
    for (let i = 0; i < CHURN / 2; i++) {
      const t = performance.now();
      const ack = await request<Ack<RoomUsers>>(churner, 'join', { room });
      acks.push(performance.now() - t);
      if (!ack.ok) throw new Error(`join refused: ${JSON.stringify(ack)}`);
      await request(churner, 'leaveRoom', room);
    }
    const churnSec = (performance.now() - churnStart) / 1000;
    // The last window's summary closes the count (bounded: there may be nothing left to say).
    const last = new Promise<void>((resolve) => watchers[0]?.on('roomUsers', (u: RoomUsers) => u.room === room && resolve()));
    await Promise.race([last, new Promise((resolve) => setTimeout(resolve, 2500).unref())]);
    for (const s of sockets) s.close();
    const r: Run = {
      opsPerSec: OPS / opsSec,
      redisUsPerOp,
      churnPerSec: CHURN / churnSec,
      ackP50Ms: median(acks),
      bytesPerMemberPerChurn: received / CHURN,
    };
    runs.push(r);
    console.log(
      `run ${run}:`,
      JSON.stringify(r, (_, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v)),
    );
    await redis.del(...(await redis.keys(`${keyPrefix}:presence:{${room}}:*`)));
  }
  const m = (pick: (r: Run) => number) => median(runs.map(pick));
  const perMember = m((r) => r.bytesPerMemberPerChurn);
  console.log(`\nmedians of ${RUNS} runs, room of ${MEMBERS} members (ROOM_USERS_MAX 1000, window 1000 ms):`);
  console.log(
    `  presence join/leave (no sockets): ${m((r) => r.opsPerSec).toFixed(0)} ops/s, Redis ${m((r) => r.redisUsPerOp).toFixed(0)} µs per script call`,
  );
  console.log(
    `  socket churn: ${m((r) => r.churnPerSec).toFixed(0)} join/leave events/s, join ack p50 ${m((r) => r.ackP50Ms).toFixed(2)} ms`,
  );
  console.log(`  bytes per churn event: ${perMember.toFixed(0)} per member, ${((perMember * MEMBERS) / 1e6).toFixed(1)} MB for the room`);
  console.log(
    `  a full list per event (the old behaviour, had it not failed): ${(fullListBytes / 1e6).toFixed(2)} MB per member, ${((fullListBytes * MEMBERS) / 1e9).toFixed(0)} GB for the room`,
  );
} finally {
  redis.disconnect();
  await node.close();
  await db.drop();
  await services.stop();
}
