import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  Announcement,
  ChatMessage,
  Notification,
  Post,
  PrivateMessage,
  RoomUsers,
  Stats,
  SystemMessage,
  TypingEvent,
} from '@parley/protocol';
import {
  collect,
  connect,
  createTestDatabase,
  follow,
  createPost,
  getFrom,
  http,
  login,
  nextEvent,
  registerUser,
  request,
  runCli,
  startCluster,
  uniqueName,
  within,
  type ClientSocket,
  type Session,
  type Cluster,
  type TestDatabase,
} from '@parley/testkit';

let db: TestDatabase;
let cluster: Cluster;
const sockets: ClientSocket[] = [];
let url: (i: number) => string;
/** The node each socket of this file is connected to (its Engine.IO connection counts there). */
const nodeOf = new Map<ClientSocket, string>();
/** The node nginx sends this machine's clients (127.0.0.1) to. */
let nginxNode: string;
const ADMIN = { username: 'cluster_admin', password: 'admin-password-1' };
const prefix = uniqueName('paths');

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  cluster = await startCluster(3, {
    DATABASE_URL: db.url,
    REDIS_URL: inject('redisUrl'),
    REDIS_KEY_PREFIX: prefix,
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    // For 'socket left its rooms': the proof that a node has processed a disconnect.
    LOG_LEVEL: 'debug',
  });
  url = (i) => (cluster.nodes[i] as { url: string }).url;
  nginxNode = (await getFrom<{ nodeId: string }>(cluster.nginx.url, '/healthz', '127.0.0.1')).body.nodeId;
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await cluster?.stop();
  await db?.drop();
});

async function on(node: number, session: Session, options = {}): Promise<ClientSocket> {
  const socket = await connect(node < 0 ? cluster.nginx.url : url(node), '/', session.token, options);
  sockets.push(socket);
  nodeOf.set(socket, node < 0 ? nginxNode : `node-${node + 1}`);
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

    // a2 still holds the room. Node 1 logs 'socket left its rooms' once it has left a1's rooms
    // and announced (or not) its departure; a chat message sent after that proves no "has
    // left" came in between.
    const a1Id = a1.id;
    const a1Left = cluster.nodes[0]!.nextLog('a1 left its rooms', (e) => e.msg === 'socket left its rooms' && e.socketId === a1Id);
    a1.close();
    await a1Left;
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

describe('cluster: notifications and admin cross nodes', () => {
  it("notifyUser reaches every device of the user on other nodes (post fan-out and the CLI's bus)", async () => {
    const [author, follower] = await Promise.all([registerUser(url(0)), registerUser(url(0))]);
    await follow(url(0), follower, author.user.id);
    const devices = await Promise.all([1, 2].map((i) => connect(url(i), '/notifications', follower.token)));
    sockets.push(...devices);
    for (const [i, d] of devices.entries()) nodeOf.set(d, `node-${i + 2}`);
    const got = devices.map((d) => nextEvent<Notification>(d, 'notification', (n) => n.type === 'new_post'));
    const post = await createPost(url(0), author, { content: 'hello cluster' });
    for (const n of await Promise.all(got))
      expect(n).toMatchObject({ message: `${author.user.username} created a new post`, data: { postId: post.id } });

    // The CLI is a process of its own: its start-up, not the delivery, sets the wait.
    const fromCli = devices.map((d) => nextEvent<Notification>(d, 'notification', (n) => n.message === 'from the cli', 30_000));
    const cli = await runCli(['notify', String(follower.user.id), 'from', 'the', 'cli'], {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: prefix,
    });
    expect(cli.code).toBe(0);
    await Promise.all(fromCli);
  });

  it('postUpdated / postDeleted from HTTP on one node reach sockets on the others', async () => {
    const author = await registerUser(url(0));
    const [s1, s2] = await Promise.all([on(1, author), on(2, await registerUser(url(0)))]);
    const post = await createPost(url(0), author, { content: 'v1' });
    const updated = [s1, s2].map((s) => nextEvent<Post>(s, 'postUpdated', (p) => p.id === post.id));
    expect((await http(url(0), 'PUT', `/posts/${post.id}`, { token: author.token, body: { content: 'v2' } })).status).toBe(200);
    for (const p of await Promise.all(updated)) expect(p.content).toBe('v2');
    const deleted = [s1, s2].map((s) => nextEvent<number>(s, 'postDeleted', (id) => id === post.id));
    expect((await http(url(0), 'DELETE', `/posts/${post.id}`, { token: author.token })).status).toBe(204);
    await Promise.all(deleted);
  });

  it('admin: announce reaches every node, stats sum the nodes, disconnectUser reaches every node', async () => {
    const admin = await login(url(0), ADMIN.username, ADMIN.password);
    const adminSocket = await connect(url(0), '/admin', admin.token);
    sockets.push(adminSocket);
    nodeOf.set(adminSocket, 'node-1');
    const target = await registerUser(url(0));
    const targets = await Promise.all([on(1, target), on(2, target), on(-1, target)]);
    const listeners = await Promise.all([0, 1, 2].map(async (i) => on(i, await registerUser(url(0)))));

    const heard = [...targets, ...listeners].map((s) => nextEvent<Announcement>(s, 'announcement', (a) => a.text === 'cluster-wide'));
    expect(await request(adminSocket, 'announce', { text: 'cluster-wide' })).toEqual({ ok: true });
    await Promise.all(heard);

    // Each node writes its Engine.IO connection count to Redis on the turn after a connection
    // opens or closes, on the connection its presence commands use. So a presence command
    // acked by every node (a listener there joining a room) proves the counts are stored.
    const room = uniqueName('room');
    const { rooms: roomsBefore } = await request<{ ok: true } & Stats>(adminSocket, 'stats');
    const settle = () => Promise.all(listeners.map((s) => request(s, 'join', { room })));
    /** Open connections per node, from the sockets of this file. */
    const expected = () => {
      const counts = new Map<string, number>(['node-1', 'node-2', 'node-3'].map((id) => [id, 0]));
      for (const s of sockets) if (s.connected) counts.set(nodeOf.get(s)!, counts.get(nodeOf.get(s)!)! + 1);
      return [...counts].map(([nodeId, connections]) => ({ nodeId, connections }));
    };
    const byNode = (stats: Stats) => [...stats.nodes].sort((p, q) => p.nodeId.localeCompare(q.nodeId));

    await settle();
    const stats = await request<{ ok: true } & Stats>(adminSocket, 'stats');
    expect(byNode(stats)).toEqual(expected());
    expect(stats.connections).toBe(sockets.filter((s) => s.connected).length);
    expect(stats.rooms).toBe(roomsBefore + 1);

    const gone = targets.map((s, i) => within(`target socket ${i} disconnected`, new Promise((resolve) => s.once('disconnect', resolve))));
    expect(await request(adminSocket, 'disconnectUser', { userId: target.user.id })).toEqual({ ok: true, userId: target.user.id });
    await Promise.all(gone);
    expect(listeners.every((s) => s.connected)).toBe(true);
    await settle();
    const after = await request<{ ok: true } & Stats>(adminSocket, 'stats');
    expect(byNode(after)).toEqual(expected());
    expect(after.connections).toBe(stats.connections - targets.length);
  });
});
