import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Ack, ChatMessage } from '@parley/protocol';
import {
  connect,
  createTestDatabase,
  eventually,
  nextEvent,
  registerUser,
  request,
  startNode,
  startRedisServer,
  uniqueName,
  type ClientSocket,
  type RedisServer,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

let db: TestDatabase;
let redis: RedisServer;
let nodes: TestNode[];
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  redis = await startRedisServer();
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, PRESENCE_TTL_SEC: '3' };
  nodes = [await startNode({ ...env, NODE_ID: 'r-1' }), await startNode({ ...env, NODE_ID: 'r-2', MIGRATE_ON_START: 'false' })];
});
afterAll(async () => {
  for (const s of sockets) s.close();
  for (const n of nodes ?? []) await n.close();
  await redis?.stop();
  await db?.drop();
});

describe('Redis restart', () => {
  it('broadcasts resume, presence is rebuilt, nothing acked is lost', async () => {
    const [n1, n2] = nodes as [TestNode, TestNode];
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(n1.url), registerUser(n1.url)]);
    const sa = await connect(n1.url, '/', a.token);
    const sb = await connect(n2.url, '/', b.token);
    sockets.push(sa, sb);
    await request(sa, 'join', { room });
    await request(sb, 'join', { room });
    const first = nextEvent<ChatMessage>(sb, 'message', (m) => m.text === 'before');
    await request(sa, 'chatMessage', { room, text: 'before' });
    const lastSeen = (await first).id;

    await redis.restart();

    // Every node re-files its share at its next heartbeat.
    const users = await eventually(() => n1.app.presence.users(room), (u) => u.length === 2);
    expect(users.sort()).toEqual([a.user.username, b.user.username].sort());

    // Broadcasts resume once the subscriber is back; everything acked meanwhile is stored.
    const acked: number[] = [];
    const received = new Set<number>();
    sb.on('message', (m: ChatMessage) => received.add(m.id));
    await eventually(
      async () => {
        const ack = await request<Ack<{ id: number }>>(sa, 'chatMessage', { room, text: `after ${acked.length}` });
        if (ack.ok) acked.push(ack.id);
        return acked.some((id) => received.has(id));
      },
      Boolean,
    );
    const sync = await request<Ack<{ messages: ChatMessage[] }>>(sb, 'sync', { room, sinceId: lastSeen });
    expect(sync.ok && sync.messages.map((m) => m.id)).toEqual(acked);
  });
});
