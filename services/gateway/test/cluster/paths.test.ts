import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChatMessage, PrivateMessage, RoomUsers, SystemMessage, TypingEvent } from '@parley/protocol';
import {
  collect,
  connect,
  createTestDatabase,
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

let db: TestDatabase;
let cluster: TestCluster;
const sockets: ClientSocket[] = [];
let url: (i: number) => string;

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  cluster = await startCluster(3, {
    DATABASE_URL: db.url,
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: uniqueName('paths'),
  });
  url = (i) => (cluster.nodes[i] as { url: string }).url;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await cluster?.stop();
  await db?.drop();
});

async function on(node: number, session: Session, options = {}): Promise<ClientSocket> {
  const socket = await connect(node < 0 ? cluster.nginx.url : url(node), '/', session.token, options);
  sockets.push(socket);
  return socket;
}

const isText = (text: string) => (m: ChatMessage | SystemMessage) => m.text === text;

describe('cluster: every path crosses nodes', () => {
  it('reports each node id on /healthz and checks Redis on /readyz', async () => {
    for (const [i, node] of cluster.nodes.entries()) {
      expect((await http(node.url, 'GET', '/healthz')).body).toEqual({ status: 'ok', nodeId: `node-${i + 1}` });
      const ready = await http<{ checks: Record<string, string> }>(node.url, 'GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.checks).toEqual({ database: 'ok', redis: 'ok' });
    }
  });

  it('room chat reaches sockets on the other nodes', async () => {
    const room = uniqueName('room');
    const [a, b, c] = await Promise.all([registerUser(url(0)), registerUser(url(1)), registerUser(url(2))]);
    const [sa, sb, sc] = await Promise.all([on(0, a), on(1, b), on(2, c)]);
    for (const s of [sa, sb, sc]) await request(s, 'join', { room });
    const got = [sb, sc].map((s) => nextEvent<ChatMessage>(s, 'message', isText('across')));
    const ack = await request<{ ok: true; id: number }>(sa, 'chatMessage', { room, text: 'across' });
    for (const m of await Promise.all(got)) expect(m).toMatchObject({ id: ack.id, room, username: a.user.username });
  });

  it('roomUsers lists a user once across nodes; "has left" only when the last socket leaves', async () => {
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(url(0)), registerUser(url(0))]);
    const sb = await on(2, b);
    await request(sb, 'join', { room });
    const [a1, a2] = await Promise.all([on(0, a), on(1, a)]);
    const joined = collect<SystemMessage>(sb, 'message');
    const users1 = nextEvent<RoomUsers>(sb, 'roomUsers', (r) => r.users.length === 2);
    await request(a1, 'join', { room });
    expect((await users1).users).toEqual([b.user.username, a.user.username]);
    const ack = await request<{ users: string[] }>(a2, 'join', { room });
    expect(ack.users).toEqual([b.user.username, a.user.username]);

    a1.close();
    // a2 still holds the room: a further chat message proves no "has left" came in between.
    const marker = nextEvent(sb, 'message', isText('still here'));
    await request(a2, 'chatMessage', { room, text: 'still here' });
    await marker;
    expect(joined.map((m) => m.text)).toEqual([`${a.user.username} has joined`, 'still here']);

    const left = nextEvent<SystemMessage>(sb, 'message', isText(`${a.user.username} has left`));
    const users2 = nextEvent<RoomUsers>(sb, 'roomUsers', (r) => r.users.length === 1);
    a2.close();
    await left;
    expect((await users2).users).toEqual([b.user.username]);
  });

  it('privateMessage reaches every socket of the recipient on other nodes', async () => {
    const [a, b] = await Promise.all([registerUser(url(0)), registerUser(url(0))]);
    const [sa, b1, b2] = await Promise.all([on(0, a), on(1, b), on(2, b)]);
    const got = [b1, b2].map((s) => nextEvent<PrivateMessage>(s, 'privateMessage'));
    const ack = await request<{ ok: true; id: number }>(sa, 'privateMessage', { to: b.user.id, message: 'psst' });
    for (const m of await Promise.all(got)) expect(m).toMatchObject({ id: ack.id, from: a.user.id, message: 'psst' });
  });

  it('typing and joinRoom/userJoined cross nodes', async () => {
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(url(0)), registerUser(url(0))]);
    const [sa, sb] = await Promise.all([on(0, a), on(1, b)]);
    await request(sb, 'joinRoom', room);
    const userJoined = nextEvent<string>(sb, 'userJoined', (id) => id === sa.id);
    await request(sa, 'joinRoom', [room]);
    await userJoined;
    const typing = nextEvent<TypingEvent>(sb, 'typing');
    sa.emit('typing', { room });
    expect(await typing).toEqual({ user: a.user.username, room });
    const stop = nextEvent<TypingEvent>(sb, 'stopTyping');
    sa.emit('stopTyping', { room });
    expect(await stop).toEqual({ user: a.user.username, room });
  });

  it.each([['polling'], ['websocket']])('clients through nginx chat over %s', async (transport) => {
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(cluster.nginx.url), registerUser(cluster.nginx.url)]);
    const sa = await on(-1, a, { transports: [transport] });
    const sb = await on(2, b);
    await request(sa, 'join', { room });
    await request(sb, 'join', { room });
    for (let i = 0; i < 5; i++) {
      // Several round trips: with polling, each one is a new HTTP request that must stick.
      const got = nextEvent<ChatMessage>(sa, 'message', isText(`from b ${i}`));
      await request(sb, 'chatMessage', { room, text: `from b ${i}` });
      await got;
      const back = nextEvent<ChatMessage>(sb, 'message', isText(`from a ${i}`));
      await request(sa, 'chatMessage', { room, text: `from a ${i}` });
      await back;
    }
    expect(sa.io.engine.transport.name).toBe(transport);
  });
});
