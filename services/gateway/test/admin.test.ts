import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INT4_ID, type Announcement, type RoomList, type Stats } from '@parley/protocol';
import {
  connect,
  login,
  nextEvent,
  registerUser,
  request,
  startNode,
  type ClientSocket,
  type Session,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

const ADMIN = { ADMIN_USERNAME: 'root_admin', ADMIN_PASSWORD: 'admin-password-1' };

let node: TestBackend;
let admin: Session;
let adminSocket: ClientSocket;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  node = await startTestBackend(ADMIN);
  admin = await login(node.url, ADMIN.ADMIN_USERNAME, ADMIN.ADMIN_PASSWORD);
  adminSocket = await connect(node.url, '/admin', admin.token);
  sockets.push(adminSocket);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await node?.close();
});

async function open(namespace: string, session: Session): Promise<ClientSocket> {
  const socket = await connect(node.url, namespace, session.token);
  sockets.push(socket);
  return socket;
}

describe('/admin', () => {
  // First in the file: stats counts every connection to the node, so no other test's sockets
  // (some still closing) may be around. The only other connection is the admin's.
  it('stats reports exactly the connections and rooms there are, per node', async () => {
    const user = await registerUser(node.url);
    const socket = await open('/', user);
    expect(await request(socket, 'join', { room: 'stats-room' })).toMatchObject({ ok: true });
    const stats = await request<{ ok: true } & Stats>(adminSocket, 'stats');
    expect(stats).toMatchObject({ ok: true, connections: 2, rooms: 1 });
    // Every node of the back-end, each with the connections it holds (admin's and user's).
    const perNode = node.nodes.map((n) => ({
      nodeId: n.config.nodeId,
      connections: [adminSocket, socket].filter((s) => node.nodeOf(s.id!) === n).length,
    }));
    const byId = (a: { nodeId: string }, b: { nodeId: string }) => a.nodeId.localeCompare(b.nodeId);
    expect([...stats.nodes].sort(byId)).toEqual(perNode.sort(byId));
  });

  it('listRooms pages the rooms with members in name order, with their user counts, cluster-wide', async () => {
    const [ann, ben] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    // Two sockets of ann (on both nodes of the redis back-ends) count once; ben is in two rooms.
    const [ann1, ann2, ben1] = await Promise.all([open('/', ann), open('/', ann), open('/', ben)]);
    for (const [socket, room] of [
      [ann1, 'list-b'],
      [ann2, 'list-b'],
      [ben1, 'list-b'],
      [ben1, 'list-a'],
    ] as const) {
      expect(await request(socket, 'join', { room })).toMatchObject({ ok: true });
    }
    const list = (payload: object) => request<{ ok: true } & RoomList>(adminSocket, 'listRooms', payload);
    // Every room of the node(s): the earlier test's 'stats-room' too, in name order.
    const everything = await list({});
    expect(everything).toEqual({
      ok: true,
      rooms: [
        { room: 'list-a', count: 1 },
        { room: 'list-b', count: 2 },
        { room: 'stats-room', count: 1 },
      ],
      hasMore: false,
    });
    expect((await request<{ ok: true } & Stats>(adminSocket, 'stats')).rooms).toBe(3);
    // Page by page, each after the last room of the one before.
    expect(await list({ limit: 2 })).toEqual({ ok: true, rooms: everything.rooms.slice(0, 2), hasMore: true });
    expect(await list({ after: 'list-b', limit: 2 })).toEqual({ ok: true, rooms: everything.rooms.slice(2), hasMore: false });
    // `after` need not be a room: everything after it in name order.
    expect(await list({ after: 'list-a!' })).toEqual({ ok: true, rooms: everything.rooms.slice(1), hasMore: false });
    // Leaving changes the count; a room whose last user left is gone.
    expect(await request(ben1, 'leaveRoom', 'list-b')).toMatchObject({ ok: true });
    expect(await request(ben1, 'leaveRoom', 'list-a')).toMatchObject({ ok: true });
    expect(await list({ after: 'list' })).toMatchObject({ rooms: [{ room: 'list-b', count: 1 }, { room: 'stats-room' }] });
    expect(await list({ limit: 0 })).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });

  it('never makes an existing non-admin account the admin: the node refuses to start', async () => {
    const taken = await registerUser(node.url, 'taken_admin_name', 'user-password');
    await expect(
      startNode({ DATABASE_URL: node.db.url, ADMIN_USERNAME: 'taken_admin_name', ADMIN_PASSWORD: 'admin-password-3' }),
    ).rejects.toThrow(/username_taken|existing account/);
    expect((await login(node.url, 'taken_admin_name', 'user-password')).user).toEqual(taken.user);
  });

  it('bootstraps the admin from ADMIN_USERNAME / ADMIN_PASSWORD, idempotently, nodes starting together', async () => {
    expect(admin.user).toMatchObject({ username: ADMIN.ADMIN_USERNAME, role: 'admin' });
    // Two nodes start at once: one creates a new admin, the other finds it (no unique violation).
    const fresh = { ADMIN_USERNAME: 'second_admin', ADMIN_PASSWORD: 'admin-password-2' };
    const more = await Promise.all([
      startNode({ DATABASE_URL: node.db.url, ...fresh }),
      startNode({ DATABASE_URL: node.db.url, ...fresh }),
    ]);
    try {
      const [one, two] = await Promise.all(more.map((n) => login(n.url, fresh.ADMIN_USERNAME, fresh.ADMIN_PASSWORD)));
      expect(one!.user).toMatchObject({ username: fresh.ADMIN_USERNAME, role: 'admin' });
      expect(two!.user).toEqual(one!.user);
    } finally {
      await Promise.all(more.map((n) => n.close()));
    }
  });

  it('refuses a normal user and a missing token', async () => {
    const user = await registerUser(node.url);
    await expect(connect(node.url, '/admin', user.token)).rejects.toMatchObject({ message: 'Forbidden', data: { code: 'forbidden' } });
    await expect(connect(node.url, '/admin', undefined)).rejects.toMatchObject({
      message: 'Authentication error',
      data: { code: 'unauthorized' },
    });
  });

  it("announce reaches every socket on '/'", async () => {
    const [a, b] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const [sa, sb] = await Promise.all([open('/', a), open('/', b)]);
    const heard = [nextEvent<Announcement>(sa, 'announcement'), nextEvent<Announcement>(sb, 'announcement')];
    expect(await request(adminSocket, 'announce', { text: 'maintenance at noon' })).toEqual({ ok: true });
    for (const announcement of await Promise.all(heard)) {
      expect(announcement.text).toBe('maintenance at noon');
      expect(Date.parse(announcement.timestamp)).not.toBeNaN();
    }
    for (const bad of [{}, { text: '' }, { text: 'x'.repeat(2001) }, 'text']) {
      expect(await request(adminSocket, 'announce', bad)).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    }
  });

  it("disconnectUser closes every socket of that user, in every namespace, and no one else's", async () => {
    const [target, bystander] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const targets = await Promise.all(['/', '/user', '/notifications', '/'].map((ns) => open(ns, target)));
    const other = await open('/', bystander);
    const gone = targets.map((s) => nextEvent<string>(s, 'disconnect'));
    expect(await request(adminSocket, 'disconnectUser', { userId: target.user.id })).toEqual({ ok: true, userId: target.user.id });
    expect(await Promise.all(gone)).toEqual(targets.map(() => 'io server disconnect'));
    expect(targets.map((s) => s.connected)).toEqual(targets.map(() => false));
    // The bystander still works.
    expect(await request(other, 'join', { room: 'still-here' })).toMatchObject({ ok: true });
    expect(await request(adminSocket, 'disconnectUser', { userId: 'x' })).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });

  it('disconnectUser: a user without sockets is fine, an id with no account is not_found', async () => {
    const offline = await registerUser(node.url);
    expect(await request(adminSocket, 'disconnectUser', { userId: offline.user.id })).toEqual({ ok: true, userId: offline.user.id });
    expect(await request(adminSocket, 'disconnectUser', { userId: MAX_INT4_ID })).toEqual({
      ok: false,
      error: { code: 'not_found', message: `No user ${MAX_INT4_ID}` },
    });
    expect(adminSocket.connected).toBe(true);
  });
});
