import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification, Post } from '@parley/protocol';
import {
  collect,
  collectUntil,
  connect,
  follow,
  createPost,
  http,
  nextEvent,
  nextEvents,
  registerUser,
  request,
  type ClientSocket,
  type Session,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

/** A backlog bound far below the 1200 unread of the test that needs it. */
const BACKLOG_MAX = 50;
let node: TestBackend;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  // Small batches so a post to a handful of followers takes several.
  node = await startTestBackend({ FANOUT_BATCH_SIZE: '2', NOTIFICATION_BACKLOG_MAX: String(BACKLOG_MAX) });
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await node?.close();
});

/** A notification as the hub would deliver it (ids far above any the database hands out). */
const make = (id: number): Notification => ({
  id,
  type: 't',
  message: `m${id}`,
  data: {},
  timestamp: new Date().toISOString(),
  readAt: null,
});

/** The node holding `client`'s '/notifications' socket (its hub), and the server side of that socket. */
function holderOf(client: ClientSocket) {
  const { app } = node.nodeOf(client.id!);
  const server = app.namespaces.notifications.sockets.get(client.id!);
  if (!server) throw new Error(`no node holds socket ${client.id}`);
  return { app, server };
}

async function listen(session: Session): Promise<ClientSocket> {
  const socket = await connect(node.url, '/notifications', session.token);
  sockets.push(socket);
  return socket;
}

const post = (author: Session, content = 'news'): Promise<Post> => createPost(node.url, author, { content });

/** Resolves when the fan-out jobs started so far are done on every node (a post's job runs on the node that took the POST). */
const fanoutIdle = () => Promise.all(node.nodes.map((n) => n.app.fanout.idle()));

/** Resolves once every earlier delivery to `session` reached `socket` (all delivered, then a marker through the same sink). */
async function barrier(session: Session, socket: ClientSocket): Promise<void> {
  const marker = nextEvent<Notification>(socket, 'notification', (n) => n.type === 'barrier');
  await fanoutIdle();
  await node.app.notifier.notifyUser(session.user.id, { type: 'barrier', message: 'barrier', data: {} });
  await marker;
  await http(node.url, 'POST', '/notifications/read-all', { token: session.token });
}

function newPostNotification(author: Session, postId: number) {
  return { type: 'new_post', message: `${author.user.username} created a new post`, data: { postId }, readAt: null };
}

describe('notifications', () => {
  it('reaches an online follower, on both of its devices, and no non-follower', async () => {
    const [author, follower, stranger] = await Promise.all([registerUser(node.url), registerUser(node.url), registerUser(node.url)]);
    await follow(node.url, follower, author.user.id);
    const [phone, laptop, other] = await Promise.all([listen(follower), listen(follower), listen(stranger)]);
    const strangerSaw = collect<Notification>(other, 'notification');
    const onPhone = nextEvent<Notification>(phone, 'notification');
    const onLaptop = nextEvent<Notification>(laptop, 'notification');

    const created = await post(author);
    const [a, b] = await Promise.all([onPhone, onLaptop]);
    expect(a).toMatchObject(newPostNotification(author, created.id));
    expect(Date.parse(a.timestamp)).not.toBeNaN();
    expect(b).toEqual(a);

    await barrier(stranger, other);
    expect(strangerSaw.filter((n) => n.type !== 'barrier')).toEqual([]);
  });

  it('fans out to every follower, in batches, exactly once', async () => {
    const author = await registerUser(node.url);
    const followers = await Promise.all(Array.from({ length: 7 }, () => registerUser(node.url)));
    for (const f of followers) await follow(node.url, f, author.user.id);
    const listeners = await Promise.all(followers.map(listen));
    const received = listeners.map((s) => collect<Notification>(s, 'notification'));
    const created = await post(author);
    await Promise.all(listeners.map((s, i) => (received[i]!.length > 0 ? Promise.resolve() : nextEvent(s, 'notification'))));
    await fanoutIdle();
    for (const list of received) expect(list).toEqual([expect.objectContaining(newPostNotification(author, created.id))]);
    const rows = await node.app.db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM notifications WHERE data->>'postId' = $1`, [
      String(created.id),
    ]);
    expect(rows[0]?.n).toBe(7);
    expect(await node.app.db.sql.query('SELECT id FROM fanout_jobs')).toEqual([]);
  });

  it('delivers what an offline follower missed on connect, oldest first, then live ones', async () => {
    const [author, follower] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    await follow(node.url, follower, author.user.id);
    // One fan-out at a time: concurrent jobs may create their notifications in any order.
    const posts: Post[] = [];
    for (const content of ['one', 'two', 'three']) {
      posts.push(await post(author, content));
      await fanoutIdle();
    }

    let backlog!: Promise<Notification[]>;
    let unread!: Promise<{ count: number }>;
    const socket = await connect(node.url, '/notifications', follower.token, {}, (s) => {
      backlog = nextEvents<Notification>(s, 'notification', 3);
      unread = nextEvent<{ count: number }>(s, 'unreadCount');
    });
    sockets.push(socket);
    expect(await unread).toEqual({ count: 3 });
    const got = await backlog;
    expect(got.map((n) => n.data.postId)).toEqual(posts.map((p) => p.id));
    expect(got.map((n) => n.id)).toEqual([...got.map((n) => n.id)].sort((x, y) => x - y));

    const live = nextEvent<Notification>(socket, 'notification');
    const fourth = await post(author, 'four');
    expect((await live).data.postId).toBe(fourth.id);
  });

  it('sends the unread count and only the newest NOTIFICATION_BACKLOG_MAX unread (oldest first), with no duplicates of what arrives meanwhile', async () => {
    const [author, follower] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    await follow(node.url, follower, author.user.id);
    await node.app.db.sql.query(
      `INSERT INTO notifications (recipient_id, type, message) SELECT $1, 'bulk', 'n' || g FROM generate_series(1, 1200) g`,
      [follower.user.id],
    );
    const newest = (
      await node.app.db.sql.query<{ id: string }>(
        `SELECT id FROM notifications WHERE recipient_id = $1 ORDER BY id DESC LIMIT ${BACKLOG_MAX}`,
        [follower.user.id],
      )
    )
      .map((r) => Number(r.id))
      .reverse();
    let all: Notification[] = [];
    let counts: { count: number }[] = [];
    const socket = await connect(node.url, '/notifications', follower.token, {}, (s) => {
      all = collect<Notification>(s, 'notification');
      counts = collect<{ count: number }>(s, 'unreadCount');
    });
    sockets.push(socket);
    // Posted while the backlog is (very likely) still being read and sent.
    const posts = await Promise.all([post(author, 'a'), post(author, 'b'), post(author, 'c')]);
    await barrier(follower, socket);
    const ids = all.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    // The count at connect: the 1200, and whichever posts were already stored then.
    expect(counts).toHaveLength(1);
    expect(counts[0]!.count).toBeGreaterThanOrEqual(1200);
    expect(counts[0]!.count).toBeLessThanOrEqual(1203);
    expect(all.filter((n) => n.type === 'bulk').map((n) => n.id)).toEqual(newest.slice(-(BACKLOG_MAX - (counts[0]!.count - 1200))));
    expect(
      all
        .filter((n) => n.type === 'new_post')
        .map((n) => n.data.postId)
        .sort(),
    ).toEqual(posts.map((p) => p.id).sort());
    const bulk = all.filter((n) => n.type === 'bulk').map((n) => n.id);
    expect(bulk).toEqual([...bulk].sort((x, y) => x - y));
  });

  it('holds live notifications until the backlog is sent, and drops the ones it carried', async () => {
    const user = await registerUser(node.url);
    const client = await listen(user);
    const { app, server } = holderOf(client);
    let release!: () => void;
    const loading = new Promise<void>((resolve) => (release = resolve));
    const received = nextEvents<Notification>(client, 'notification', 3);
    const done = app.notificationHub.sendBacklog(server, async () => {
      await loading;
      return { notifications: [make(1_000_001), make(1_000_002)], unreadCount: 2 };
    });
    // Arrive while the backlog query is in flight: one already in the backlog, one new.
    app.notificationHub.deliverLocal([
      { recipientId: user.user.id, notification: make(1_000_002) },
      { recipientId: user.user.id, notification: make(1_000_003) },
    ]);
    release();
    expect(await done).toBe(3);
    expect((await received).map((n) => n.id)).toEqual([1_000_001, 1_000_002, 1_000_003]);
  });

  it('skips the live copy of one the backlog already sent, when it arrives after the backlog', async () => {
    const user = await registerUser(node.url);
    const client = await listen(user);
    const { app, server } = holderOf(client);
    const hub = app.notificationHub;
    const received = collectUntil<Notification>(client, 'notification', (n) => n.id === 2_000_004);
    expect(await hub.sendBacklog(server, async () => ({ notifications: [make(2_000_001), make(2_000_002)], unreadCount: 2 }))).toBe(2);
    // Committed before the backlog read them, delivered live only now (a fan-out batch's lag).
    hub.deliverLocal([2_000_002, 2_000_003, 2_000_001, 2_000_004].map((id) => ({ recipientId: user.user.id, notification: make(id) })));
    expect((await received).map((n) => n.id)).toEqual([2_000_001, 2_000_002, 2_000_003, 2_000_004]);
    // Skipped once only: a later copy is a new delivery.
    const again = nextEvent<Notification>(client, 'notification');
    hub.deliverLocal([{ recipientId: user.user.id, notification: make(2_000_001) }]);
    expect((await again).id).toBe(2_000_001);
  });

  it('lists, counts and marks read over HTTP and the socket', async () => {
    const user = await registerUser(node.url);
    for (const text of ['a', 'b', 'c', 'd'])
      await node.app.notifier.notifyUser(user.user.id, { type: 'system', message: text, data: { text } });
    type List = { notifications: Notification[]; unreadCount: number };
    const list = await http<List>(node.url, 'GET', '/notifications', { token: user.token });
    expect(list.body.unreadCount).toBe(4);
    expect(list.body.notifications.map((n) => n.message)).toEqual(['d', 'c', 'b', 'a']);
    const [d, c] = list.body.notifications;

    expect((await http(node.url, 'POST', `/notifications/${d!.id}/read`, { token: user.token })).status).toBe(204);
    expect((await http(node.url, 'POST', `/notifications/${d!.id}/read`, { token: user.token })).status).toBe(204);
    const unread = await http<List>(node.url, 'GET', '/notifications?unread=true', { token: user.token });
    expect(unread.body).toMatchObject({ unreadCount: 3 });
    expect(unread.body.notifications.map((n) => n.message)).toEqual(['c', 'b', 'a']);
    const all = await http<List>(node.url, 'GET', `/notifications?before=${c!.id}`, { token: user.token });
    expect(all.body.notifications.map((n) => n.message)).toEqual(['b', 'a']);

    const socket = await listen(user);
    expect(await request(socket, 'markRead', { ids: [c!.id] })).toEqual({ ok: true, updated: 1 });
    expect(await request(socket, 'markRead', { ids: 'nope' })).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(await request(socket, 'markRead', { all: true })).toEqual({ ok: true, updated: 2 });
    expect((await http<List>(node.url, 'GET', '/notifications?unread=true', { token: user.token })).body).toEqual({
      notifications: [],
      unreadCount: 0,
    });
    const bad = await http<{ error: { code: string } }>(node.url, 'GET', '/notifications?unread=maybe', { token: user.token });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_payload']);
  });

  it("never shows one user's notifications to another (HTTP and sockets)", async () => {
    const [owner, intruder] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const intruderSocket = await listen(intruder);
    const intruderSaw = collect<Notification>(intruderSocket, 'notification');
    const secret = await node.app.notifier.notifyUser(owner.user.id, { type: 'system', message: 'secret', data: {} });

    const list = await http<{ notifications: Notification[]; unreadCount: number }>(node.url, 'GET', '/notifications', {
      token: intruder.token,
    });
    expect(list.body).toEqual({ notifications: [], unreadCount: 0 });
    const read = await http<{ error: { code: string } }>(node.url, 'POST', `/notifications/${secret.id}/read`, { token: intruder.token });
    expect([read.status, read.body.error.code]).toEqual([404, 'not_found']);
    expect(await request(intruderSocket, 'markRead', { ids: [secret.id] })).toEqual({ ok: true, updated: 0 });
    const anonymous = await http<{ error: { code: string } }>(node.url, 'GET', '/notifications');
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'unauthorized']);
    await expect(connect(node.url, '/notifications', 'not-a-token')).rejects.toMatchObject({
      message: 'Authentication error',
      data: { code: 'unauthorized' },
    });

    await barrier(intruder, intruderSocket);
    expect(intruderSaw.filter((n) => n.type !== 'barrier')).toEqual([]);
    // The owner's copy is still unread: the intruder's attempts changed nothing.
    expect((await http<{ unreadCount: number }>(node.url, 'GET', '/notifications', { token: owner.token })).body.unreadCount).toBe(1);
  });

  it('notifyUser refuses an unknown user', async () => {
    await expect(node.app.notifier.notifyUser(999_999, { type: 'system', message: 'x', data: {} })).rejects.toMatchObject({
      code: 'not_found',
    });
  });
});

describe('notifications: paging and bounds', () => {
  type List = { notifications: Notification[]; unreadCount: number };
  type Err = { error: { code: string } };

  /** `count` unread notifications for `session`, made in one statement; their ids, newest first. */
  async function bulk(session: Session, count: number): Promise<number[]> {
    const rows = await node.db.query<{ id: string }>(
      `INSERT INTO notifications (recipient_id, type, message) SELECT $1, 'bulk', 'n' || g FROM generate_series(1, ${count}) g RETURNING id`,
      [session.user.id],
    );
    return rows.map((r) => Number(r.id)).sort((a, b) => b - a);
  }

  it('GET /notifications: the newest 50 by default, exactly limit up to 200, before pages back; bad values refused', async () => {
    const user = await registerUser(node.url);
    const newest = await bulk(user, 230);
    const ids = async (query: string) => {
      const res = await http<List>(node.url, 'GET', `/notifications${query}`, { token: user.token });
      expect(res.status, query).toBe(200);
      expect(res.body.unreadCount).toBe(230);
      return res.body.notifications.map((n) => n.id);
    };
    expect(await ids('')).toEqual(newest.slice(0, 50));
    expect(await ids('?limit=200')).toEqual(newest.slice(0, 200));
    expect(await ids(`?limit=200&before=${newest[199]}`)).toEqual(newest.slice(200));
    expect(await ids(`?unread=true&limit=2&before=${newest[10]}`)).toEqual(newest.slice(11, 13));
    for (const query of ['limit=0', 'limit=201', 'limit=1.5', 'before=0', 'before=x', 'unread=yes']) {
      const res = await http<Err>(node.url, 'GET', `/notifications?${query}`, { token: user.token });
      expect({ query, status: res.status, code: res.body.error.code }).toEqual({ query, status: 400, code: 'invalid_payload' });
    }
  });

  it('markRead takes 1 to 500 ids (0 and 501 are invalid_payload, nothing marked); read-all answers exactly how many it marked', async () => {
    const user = await registerUser(node.url);
    const ids = await bulk(user, 600);
    const socket = await listen(user);
    for (const bad of [{ ids: [] }, { ids: ids.slice(0, 501) }]) {
      expect(await request(socket, 'markRead', bad), `${bad.ids.length} ids`).toEqual({
        ok: false,
        error: { code: 'invalid_payload', message: expect.any(String) },
      });
    }
    const unread = async () => (await http<List>(node.url, 'GET', '/notifications?limit=1', { token: user.token })).body.unreadCount;
    expect(await unread()).toBe(600);
    expect(await request(socket, 'markRead', { ids: ids.slice(0, 500) })).toEqual({ ok: true, updated: 500 });
    expect(await unread()).toBe(100);

    const readAll = await http(node.url, 'POST', '/notifications/read-all', { token: user.token });
    expect({ status: readAll.status, body: readAll.body }).toEqual({ status: 200, body: { updated: 100 } });
    const again = await http(node.url, 'POST', '/notifications/read-all', { token: user.token });
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: { updated: 0 } });
    expect(await unread()).toBe(0);
  });
});
