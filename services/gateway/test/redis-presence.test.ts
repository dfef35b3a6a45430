import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LogTail, simulateRoomMembers, uniqueName, within } from '@parley/testkit';
import type { PresenceEviction, PresenceMember } from '../src/presence/presence.ts';
import { RedisPresence } from '../src/presence/redis-presence.ts';

const connections: Redis[] = [];
const started: RedisPresence[] = [];

afterAll(async () => {
  for (const p of started) await p.close();
  for (const c of connections) c.disconnect();
});

/**
 * A live node's TTL. All nodes of a file share this process: an event-loop stall longer than
 * the TTL (a loaded machine) would delay every heartbeat and reap nodes that are alive, so
 * nodes meant to stay alive get a TTL no stall reaches.
 */
const LIVE_TTL_SEC = 60;
/** A node meant to die: the shortest TTL the configuration allows, so it is reaped quickly. */
const DOOMED_TTL_SEC = 2;
/** Heartbeat and sweep period of every node. */
const INTERVAL_MS = 100;

/**
 * Presence instances ("nodes") sharing one fresh key prefix, each on its own connection.
 * Each node's warnings go to `logs` (a LogTail named after it).
 */
function cluster(keyPrefix = uniqueName('presence')) {
  return async (nodeId: string, ttlSec = LIVE_TTL_SEC): Promise<RedisPresence & { logs: LogTail }> => {
    const redis = new Redis(inject('redisUrl'));
    connections.push(redis);
    const logs = new LogTail(nodeId);
    const log = { warn: (obj: object, msg: string) => logs.push({ ...obj, msg }) };
    const presence = new RedisPresence(redis, {
      nodeId,
      keyPrefix,
      ttlSec,
      intervalMs: INTERVAL_MS,
      log,
      usersMax: 1000,
      coalesceAbove: 2,
    });
    await presence.start();
    started.push(presence);
    return Object.assign(presence, { logs });
  };
}

let next = 1;
function member(userId: number, username = `user${userId}`): PresenceMember {
  return { socketId: `s${next++}`, userId, username };
}

describe('RedisPresence', () => {
  it('counts sockets per user across nodes: listed once, "changed" only for the first and last', async () => {
    const node = cluster();
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const u1a = member(1, 'ann');
    const u1b = member(1, 'ann');
    const u2 = member(2, 'bob');
    const small = { room: 'r', coalesced: false };
    expect(await a.join('r', u1a)).toEqual({ ...small, users: ['ann'], count: 1, changed: true });
    expect(await b.join('r', u1b)).toEqual({ ...small, users: ['ann'], count: 1, changed: false });
    expect(await b.join('r', u2)).toEqual({ ...small, users: ['ann', 'bob'], count: 2, changed: true });
    expect(await a.leave('r', u1a)).toEqual({ ...small, users: ['ann', 'bob'], count: 2, changed: false });
    // A node cannot remove a socket it does not hold.
    expect(await a.leave('r', u1b)).toEqual({ ...small, users: ['ann', 'bob'], count: 2, changed: false });
    expect(await b.leave('r', u1b)).toEqual({ ...small, users: ['bob'], count: 1, changed: true });
    expect((await a.stats()).rooms).toBe(1);
    expect(await b.leave('r', u2)).toEqual({ ...small, users: [], count: 0, changed: true });
    expect((await a.stats()).rooms).toBe(0);
  });

  it('sums connections over live nodes', async () => {
    const node = cluster();
    const [a, b] = await Promise.all([node('a'), node('b')]);
    a.setConnections(3);
    b.setConnections(4);
    await a.join('x', member(1));
    await b.join('y', member(2));
    const stats = await a.stats();
    expect(stats.nodes.sort((p, q) => p.nodeId.localeCompare(q.nodeId))).toEqual([
      { nodeId: 'a', connections: 3 },
      { nodeId: 'b', connections: 4 },
    ]);
    expect(stats).toMatchObject({ connections: 7, rooms: 2 });
  });

  it("reaps a dead node's members once, cluster-wide, keeping users who are still elsewhere", async () => {
    const node = cluster();
    const [a, b, dead, dead2] = await Promise.all([node('a'), node('b'), node('dead', DOOMED_TTL_SEC), node('dead2', DOOMED_TTL_SEC)]);
    const seen: PresenceEviction[] = [];
    const waiters: [room: string, resolve: () => void][] = [];
    // Design bound: the dead node's deadline (≤ its TTL after its last heartbeat) plus one sweep
    // period; 5 s more because timers fire late on a loaded machine.
    const bound = DOOMED_TTL_SEC * 1000 + INTERVAL_MS + 5000;
    const evicted = (room: string) =>
      within(`the eviction from "${room}"`, new Promise<void>((resolve) => waiters.push([room, resolve])), bound);
    // Whichever live node wins the reaper lock reports the evictions.
    for (const p of [a, b, dead2]) {
      p.onEviction((e) => {
        seen.push(e);
        for (const [room, resolve] of waiters) if (room === e.room) resolve();
      });
    }
    await a.join('r', member(1, 'ann'));
    await dead.join('r', member(1, 'ann'));
    await dead.join('r', member(2, 'bob'));
    await dead.join('r', member(2, 'bob'));
    await dead.join('s', member(3, 'cid'));
    const first = evicted('r');
    await dead.close(); // no more heartbeats: as good as kill -9
    await first;
    // A second death, later: once its eviction arrives, every sweep of the first is done.
    await dead2.join('marker', member(4, 'dan'));
    const marker = evicted('marker');
    await dead2.close();
    await marker;
    expect(seen.filter((e) => e.room !== 'marker').sort((p, q) => p.room.localeCompare(q.room))).toEqual([
      { room: 'r', left: ['bob'], users: ['ann'], count: 1, coalesced: false },
      { room: 's', left: ['cid'], users: [], count: 0, coalesced: false },
    ]);
    expect(await b.users('r')).toEqual({ room: 'r', users: ['ann'], count: 1 });
    expect((await b.stats()).nodes.map((n) => n.nodeId).sort()).toEqual(['a', 'b']);
  });

  it('withdraw removes this node and reports users whose last socket was here', async () => {
    const node = cluster();
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const ann = member(1, 'ann');
    await a.join('r', ann);
    await b.join('r', member(1, 'ann'));
    await a.join('r', member(2, 'bob'));
    expect(await a.withdraw()).toEqual([{ room: 'r', left: ['bob'], users: ['ann'], count: 1, coalesced: false }]);
    expect((await a.leave('r', ann)).changed).toBe(false);
    expect((await b.stats()).nodes.map((n) => n.nodeId)).toEqual(['b']);
  });

  it('re-files its share when Redis forgets it', async () => {
    const keyPrefix = uniqueName('presence');
    const a = await cluster(keyPrefix)('a');
    await a.join('r', member(1, 'ann'));
    await a.join('r', member(2, 'bob'));
    const redis = connections[connections.length - 1] as Redis;
    const keys = [...(await redis.keys(`{${keyPrefix}}:*`)), ...(await redis.keys(`${keyPrefix}:*`))];
    // Its next heartbeat (every 100 ms) finds it forgotten, re-files the share, then says so.
    const refiled = a.logs.next('re-registered', (e) => e.msg === 'presence: re-registered after Redis lost it');
    await redis.del(...keys);
    expect(await a.users('r')).toEqual({ room: 'r', users: [], count: 0 });
    expect(await refiled).toMatchObject({ nodeId: 'a', rooms: 1 });
    expect(await a.users('r')).toEqual({ room: 'r', users: ['ann', 'bob'], count: 2 });
  });

  it("a room of 100,000 users: join, leave, users, flush and a dead node's share work, users capped, the count exact", async () => {
    const keyPrefix = uniqueName('presence');
    const node = cluster(keyPrefix);
    const [a, doomed] = await Promise.all([node('a'), node('doomed', DOOMED_TTL_SEC)]);
    const sims = await simulateRoomMembers(
      { url: inject('redisUrl'), clusterNodes: undefined },
      { keyPrefix, room: 'big', count: 100_000 },
    );
    const first = sims.slice(0, 1000);
    const big = { room: 'big', users: first, coalesced: true };
    expect(await a.join('big', member(1, 'ann'))).toEqual({ ...big, count: 100_001, changed: true });
    expect(await doomed.join('big', member(2, 'bob'))).toEqual({ ...big, count: 100_002, changed: true });
    expect(await a.users('big')).toEqual({ room: 'big', users: first, count: 100_002 });
    // One summary per window: the two arrivals now, nothing more until the window ends.
    expect(await a.flush('big', 60_000)).toEqual({ kind: 'send', joined: 2, left: 0, room: 'big', users: first, count: 100_002 });
    expect(await a.flush('big', 60_000)).toEqual({ kind: 'idle' });
    // Ann's departure is pending: the window is not over.
    expect(await a.leave('big', member(1, 'ann'))).toEqual({ ...big, users: [], count: 100_001, changed: true });
    expect(await a.flush('big', 60_000)).toMatchObject({ kind: 'wait' });
    const evicted = new Promise<PresenceEviction>((resolve) => a.onEviction(resolve));
    await doomed.close();
    // Bob's node died: his departure joins the room's pending summary instead of a "has left".
    const bound = DOOMED_TTL_SEC * 1000 + INTERVAL_MS + 5000;
    expect(await within('the eviction from the big room', evicted, bound)).toEqual({ ...big, left: [], count: 100_000 });
  });
});
