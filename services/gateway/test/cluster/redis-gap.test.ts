import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import type { ChatMessage } from '@parley/protocol';
import {
  connect,
  createTestDatabase,
  registerUser,
  request,
  startNode,
  startRedisServer,
  uniqueName,
  within,
  type ClientSocket,
  type RedisServer,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

// Two nodes on a private redis-server (this test stops it). A message stored while Redis is away
// cannot cross nodes; when Redis is back, each node tells its clients to catch up ('resync').
let db: TestDatabase;
let redis: RedisServer;
let nodes: TestNode[];
const sockets: ClientSocket[] = [];
const clients: ParleyClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  redis = await startRedisServer();
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, LOG_LEVEL: 'info' };
  nodes = [await startNode({ ...env, NODE_ID: 'g-1' }), await startNode({ ...env, NODE_ID: 'g-2', MIGRATE_ON_START: 'false' })];
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of sockets) s.close();
  for (const n of nodes ?? []) await n.close();
  await redis?.stop();
  await db?.drop();
});

describe('a Redis outage between nodes', () => {
  it('messages stored meanwhile reach the members on other nodes once Redis is back (resync), exactly once', async () => {
    const [n1, n2] = nodes as [TestNode, TestNode];
    const room = uniqueName('room');
    const [reader, writer] = await Promise.all([registerUser(n1.url), registerUser(n2.url)]);
    const client = new ParleyClient({ url: n1.url, token: reader.token, socket: { transports: ['websocket'] } });
    clients.push(client);
    const got: ChatMessage[] = [];
    client.onMessage((m) => got.push(m));
    await client.connected();
    await client.join(room);
    const sender = await connect(n2.url, '/', writer.token);
    sockets.push(sender);
    await request(sender, 'join', { room });
    const before = within(
      '"before" across nodes',
      new Promise<void>((resolve) => client.onMessage((m) => m.text === 'before' && resolve())),
    );
    await request(sender, 'chatMessage', { room, text: 'before' });
    await before;

    // Redis goes away: the message is stored and acked, but cannot be broadcast to node 1.
    const down = n2.nextLog('node 2 sees Redis gone', (e) => e.msg === 'redis connection error' && e.role === 'pub');
    await redis.halt();
    await down;
    const during = await request<{ ok: boolean; id: number }>(sender, 'chatMessage', { room, text: 'during' });
    expect(during).toEqual({ ok: true, id: expect.any(Number), position: expect.any(Number) });

    const caughtUp = within(
      '"during" through the resync after Redis is back',
      new Promise<void>((resolve) => client.onMessage((m) => m.id === during.id && resolve())),
      20_000,
    );
    await redis.start();
    await caughtUp;
    const after = within(
      '"after" live again',
      new Promise<void>((resolve) => client.onMessage((m) => m.text === 'after' && resolve())),
      10_000,
    );
    await request(sender, 'chatMessage', { room, text: 'after' });
    await after;
    expect(got.map((m) => m.text)).toEqual(['before', 'during', 'after']);
  });
});
