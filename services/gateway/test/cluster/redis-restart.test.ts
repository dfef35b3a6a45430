import { afterAll, describe, expect, it } from 'vitest';
import type { Ack, ChatMessage } from '@parley/protocol';
import { connect, nextEvent, registerUser, request, uniqueName, type ClientSocket, type TestNode } from '@parley/testkit';
import { useNodesOnPrivateRedis } from '@parley/testkit/vitest';

// LOG_LEVEL info: the test awaits the nodes' own account of the restart.
const the = useNodesOnPrivateRedis(2, { PRESENCE_TTL_SEC: '3', LOG_LEVEL: 'info' }, 'r');
const sockets: ClientSocket[] = [];
afterAll(() => {
  for (const s of sockets) s.close();
});

describe('Redis restart', () => {
  it('broadcasts resume, presence is rebuilt, nothing acked is lost', async () => {
    const [n1, n2] = the.nodes as [TestNode, TestNode];
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

    // Each node logs when its subscriber connection is back (ioredis re-subscribes right
    // after, in the same turn) and, at its next heartbeat (every TTL/3 = 1 s), when it has put
    // its share of the presence back into the empty Redis.
    const back = [n1, n2].flatMap((n) => [
      n.nextLog('subscriber back', (e) => e.msg === 'redis connection back' && e.role === 'sub'),
      n.nextLog('presence re-filed', (e) => e.msg === 'presence: re-registered after Redis lost it'),
    ]);
    await the.redis.restart();
    await Promise.all(back);
    expect((await n1.app.presence.users(room)).users.sort()).toEqual([a.user.username, b.user.username].sort());

    // Broadcasts resume; what is acked is stored and comes back from 'sync'.
    const got = nextEvent<ChatMessage>(sb, 'message', (m) => m.text === 'after');
    const ack = await request<Ack<{ id: number }>>(sa, 'chatMessage', { room, text: 'after' });
    expect(ack).toMatchObject({ ok: true });
    const { id } = ack as { id: number };
    expect((await got).id).toBe(id);
    const sync = await request<Ack<{ messages: ChatMessage[] }>>(sb, 'sync', { room, sinceId: lastSeen });
    expect(sync).toMatchObject({ ok: true, messages: [{ id, text: 'after' }] });
    expect((sync as { messages: ChatMessage[] }).messages).toHaveLength(1);
  });
});
