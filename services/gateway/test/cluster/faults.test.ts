import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import type { Ack, ChatMessage, RoomUsers, ServerShutdown, SystemMessage } from '@parley/protocol';
import {
  collect,
  connect,
  createTestDatabase,
  getFrom,
  http,
  nextEvent,
  registerUser,
  request,
  startCluster,
  uniqueName,
  type ClientSocket,
  type Session,
  type TestCluster,
  type TestDatabase,
} from '@parley/testkit';

/** The contract's bound for presence clean-up after a kill -9. */
const CLEANUP_BOUND_MS = 10_000;

let db: TestDatabase;
let cluster: TestCluster;
let redis: Redis;
const prefix = uniqueName('faults');
const closers: (() => void)[] = [];

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  redis = new Redis(inject('redisUrl'));
  cluster = await startCluster(3, { DATABASE_URL: db.url, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: prefix });
});
afterAll(async () => {
  for (const close of closers) close();
  await cluster?.stop();
  redis?.disconnect();
  await db?.drop();
});

const node = (i: number) => cluster.nodes[i] as (typeof cluster.nodes)[number];

async function direct(i: number, session: Session): Promise<ClientSocket> {
  const socket = await connect(node(i).url, '/', session.token);
  closers.push(() => socket.close());
  return socket;
}

/** Keeps a talker under the per-socket rate limit (10 messages/s). */
const pace = () => new Promise((resolve) => setTimeout(resolve, 120));

/** A loopback source address nginx's `hash $remote_addr` maps to `nodeId`. */
async function addressFor(nodeId: string): Promise<string> {
  for (let i = 2; i < 250; i++) {
    const address = `127.0.0.${i}`;
    if ((await getFrom<{ nodeId: string }>(cluster.nginx.url, '/healthz', address)).body.nodeId === nodeId) return address;
  }
  throw new Error(`no address maps to ${nodeId}`);
}

/** Every message id stored for `room`, read page by page through the HTTP history route. */
async function history(room: string): Promise<Set<number>> {
  const { token } = await registerUser(node(2).url);
  const ids = new Set<number>();
  let before = '';
  for (;;) {
    const path = `/rooms/${encodeURIComponent(room)}/messages?limit=100${before}`;
    const page = (await http<{ messages: ChatMessage[] }>(node(2).url, 'GET', path, { token })).body.messages;
    for (const m of page) ids.add(m.id);
    if (page.length < 100) return ids;
    before = `&before=${page[page.length - 1]?.id}`;
  }
}

describe('cluster faults', () => {
  it('kill -9: presence cleaned within 10 s, clients fail over through nginx, nothing acked is lost', async () => {
    const room = uniqueName('room');
    const [a, b, c] = await Promise.all([registerUser(node(2).url), registerUser(node(2).url), registerUser(node(2).url)]);
    const sa = await direct(2, a);
    const sc = await direct(0, c);
    const victimAddress = await addressFor('node-1');
    const client = new ParleyClient({ url: cluster.nginx.url, token: b.token, ackTimeoutMs: 3000, socket: { transports: ['websocket'], localAddress: victimAddress } as object });
    closers.push(() => client.close());
    const deliveredToB: number[] = [];
    client.onMessage((m: ChatMessage) => deliveredToB.push(m.id));
    await client.connected();
    for (const join of [() => request(sa, 'join', { room }), () => client.join(room), () => request(sc, 'join', { room })]) await join();

    const seenByA = collect<ChatMessage | SystemMessage>(sa, 'message');
    const ackedA: number[] = [];
    const ackedB: number[] = [];
    let talking = true;
    const talkA = (async () => {
      for (let i = 0; talking; i++) {
        const ack = await request<Ack<{ id: number }>>(sa, 'chatMessage', { room, text: `a${i}` });
        if (ack.ok) ackedA.push(ack.id);
        await pace();
      }
    })();
    const talkB = (async () => {
      for (let i = 0; talking; i++) {
        try {
          ackedB.push(await client.send(room, `b${i}`));
        } catch {
          // In flight when the node died, or sent before the room was rejoined: not acked.
        }
        await pace();
      }
    })();
    await nextEvent(sa, 'message', (m: ChatMessage) => m.text === 'b5');

    const resynced = new Promise<void>((resolve) => client.onResync(resolve));
    const left = nextEvent<SystemMessage>(sa, 'message', (m) => m.text === `${c.user.username} has left`, CLEANUP_BOUND_MS + 2000);
    const users = nextEvent<RoomUsers>(sa, 'roomUsers', (r) => !r.users.includes(c.user.username), CLEANUP_BOUND_MS + 2000);
    const killedAt = Date.now();
    await node(0).kill('SIGKILL');
    await resynced;
    const failoverMs = Date.now() - killedAt;
    await left;
    const cleanupMs = Date.now() - killedAt;
    expect((await users).users.filter((u) => u === b.user.username)).toHaveLength(1);
    console.log(`kill -9: presence cleaned in ${cleanupMs} ms, client failed over in ${failoverMs} ms`);
    expect(cleanupMs).toBeLessThan(CLEANUP_BOUND_MS);

    // Keep talking until b has had three more messages acked by its new node.
    const before = ackedB.length;
    while (ackedB.length < before + 3) await nextEvent(sa, 'message');
    talking = false;
    await Promise.all([talkA, talkB]);
    // A last message from each side proves the other has everything before it.
    const bGetsLast = new Promise<void>((resolve) => client.onMessage((m: ChatMessage) => m.text === 'a-last' && resolve()));
    const aGetsLast = nextEvent(sa, 'message', (m: ChatMessage) => m.text === 'b-last');
    const lastA = await request<Ack<{ id: number }>>(sa, 'chatMessage', { room, text: 'a-last' });
    ackedB.push(await client.send(room, 'b-last'));
    if (lastA.ok) ackedA.push(lastA.id);
    await Promise.all([aGetsLast, bGetsLast]);

    expect(ackedB.length).toBeGreaterThan(before);
    const stored = await history(room);
    for (const id of [...ackedA, ...ackedB]) expect(stored.has(id)).toBe(true);
    const seenIds = new Set(seenByA.filter((m): m is ChatMessage => 'id' in m).map((m) => m.id));
    for (const id of ackedB) expect(seenIds.has(id)).toBe(true);
    expect(new Set(deliveredToB).size).toBe(deliveredToB.length);
    for (const id of ackedA) expect(deliveredToB).toContain(id);
  });

  it('SIGTERM: tells clients, withdraws presence, flushes writes and exits within 10 s', async () => {
    const room = uniqueName('room');
    const [a, d] = await Promise.all([registerUser(node(2).url), registerUser(node(2).url)]);
    const sa = await direct(2, a);
    const sd = await direct(1, d);
    await request(sa, 'join', { room });
    await request(sd, 'join', { room });

    const shutdown = nextEvent<ServerShutdown>(sd, 'serverShutdown');
    const left = nextEvent<SystemMessage>(sa, 'message', (m) => m.text === `${d.user.username} has left`);
    const sends = Array.from({ length: 20 }, (_, i) => request<Ack<{ id: number }>>(sd, 'chatMessage', { room, text: `d${i}` }));
    await sends[0];
    const startedAt = Date.now();
    const status = await node(1).kill('SIGTERM');
    const drainMs = Date.now() - startedAt;
    console.log(`SIGTERM: node exited in ${drainMs} ms`);
    expect(status).toEqual({ code: 0, signal: null });
    expect(drainMs).toBeLessThan(10_000);
    expect(await shutdown).toEqual({ nodeId: 'node-2', reconnect: true });
    await left;

    const results = await Promise.allSettled(sends);
    const acked = results.flatMap((r) => (r.status === 'fulfilled' && r.value.ok ? [r.value.id] : []));
    expect(acked.length).toBeGreaterThan(0);
    const stored = await history(room);
    for (const id of acked) expect(stored.has(id)).toBe(true);
    expect(await redis.zscore(`{${prefix}}:presence:nodes`, 'node-2')).toBeNull();
    expect(await redis.hgetall(`{${prefix}}:presence:n:node-2`)).toEqual({});
  });
});
