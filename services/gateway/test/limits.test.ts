import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '@parley/protocol';
import {
  connect,
  createPost,
  http,
  nextEvent,
  registerAndConnect,
  registerUser,
  request,
  uniqueName,
  type ClientSocket,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

const BURST = 5;
/** Room for a 4 KiB 'message' in one packet. */
const MAX_PACKET = 16384;
/** Events (and post writes) per user, whatever its sockets and nodes, for the whole file. */
const USER_BUDGET = 8;

let node: TestBackend;
beforeAll(async () => {
  // A tiny bucket refilled slowly, so a flood is refused deterministically.
  node = await startTestBackend({
    RATE_LIMIT_BURST: String(BURST),
    RATE_LIMIT_PER_SEC: '0.001',
    MAX_HTTP_BUFFER_SIZE: String(MAX_PACKET),
    USER_RATE_LIMIT: String(USER_BUDGET),
    USER_RATE_LIMIT_WINDOW_SEC: '3600',
  });
});
afterAll(() => node?.close());

const codes = (acks: Ack[]) => acks.map((a) => (a.ok ? 'ok' : a.error.code));

describe('rate limits', () => {
  it('a flood of chat messages is refused with rate_limited while another client is served', async () => {
    const room = uniqueName('room');
    const flooder = await registerAndConnect(node.url);
    const calm = await registerAndConnect(node.url);
    await request(flooder.socket, 'join', { room });
    await request(calm.socket, 'join', { room });

    const flood = await Promise.all(Array.from({ length: BURST * 4 }, (_, i) => request<Ack>(flooder.socket, 'chatMessage', `spam ${i}`)));
    expect(codes(flood).filter((c) => c === 'ok')).toHaveLength(BURST);
    expect(codes(flood).filter((c) => c === 'rate_limited')).toHaveLength(BURST * 3);

    expect(await request(calm.socket, 'chatMessage', 'still served')).toMatchObject({ ok: true });
    expect((await http(node.url, 'GET', '/healthz')).status).toBe(200);
    expect(flooder.socket.connected).toBe(true);
    // Without an ack the refusal is an 'error' event.
    const error = nextEvent(flooder.socket, 'error');
    flooder.socket.emit('chatMessage', 'one more');
    expect(await error).toMatchObject({ code: 'rate_limited' });
    flooder.socket.close();
    calm.socket.close();
  });

  it('private messages and the lesson message share the send bucket', async () => {
    const sender = await registerAndConnect(node.url);
    const target = await registerUser(node.url);
    const acks: Ack[] = [];
    for (let i = 0; i < BURST; i++) acks.push(await request<Ack>(sender.socket, 'privateMessage', { to: target.user.id, message: 'hi' }));
    expect(codes(acks)).toEqual(Array(BURST).fill('ok'));
    const error = nextEvent(sender.socket, 'error');
    sender.socket.emit('message', { hello: true });
    expect(await error).toMatchObject({ code: 'rate_limited' });
    sender.socket.close();
  });

  it('room events have a bucket of their own, big enough to rejoin and sync every room at once', async () => {
    const client = await registerAndConnect(node.url);
    // What a client reconnecting to another node does: rejoin its 50 rooms (the documented cap)
    // and sync each. docs/PROTOCOL.md: the room bucket's burst is at least 100, whatever
    // RATE_LIMIT_BURST says (5 here).
    const rooms = Array.from({ length: 50 }, (_, i) => `resync-${client.user.id}-${i}`);
    const acks = await Promise.all(
      rooms.flatMap((room) => [request<Ack>(client.socket, 'join', { room }), request<Ack>(client.socket, 'sync', { room, sinceId: 0 })]),
    );
    expect(codes(acks)).toEqual(Array(100).fill('ok'));
    // The bucket is now empty: churning membership is refused, chat is not.
    const churn = await Promise.all([
      request<Ack>(client.socket, 'leaveRoom', rooms[0]),
      request<Ack>(client.socket, 'joinRoom', rooms[0]),
    ]);
    expect(codes(churn)).toEqual(['rate_limited', 'rate_limited']);
    expect(await request(client.socket, 'chatMessage', { room: rooms[0], text: 'chat has its own bucket' })).toMatchObject({ ok: true });
    client.socket.close();
  });

  it('typing has its own bucket, twice the send burst', async () => {
    const typist = await registerAndConnect(node.url);
    await request(typist.socket, 'join', { room: 'typing-room' });
    const acks = await Promise.all(Array.from({ length: BURST * 3 }, () => request<Ack>(typist.socket, 'typing', { room: 'typing-room' })));
    expect(codes(acks).filter((c) => c === 'ok')).toHaveLength(BURST * 2);
    expect(await request(typist.socket, 'chatMessage', 'chat still allowed')).toMatchObject({ ok: true });
    typist.socket.close();
  });
});

describe('maxHttpBufferSize', () => {
  it('a packet over the limit closes that connection only', async () => {
    const big = await registerAndConnect(node.url);
    const other = await registerAndConnect(node.url);
    const closed = nextEvent<string>(big.socket, 'disconnect');
    big.socket.emit('message', { blob: 'x'.repeat(MAX_PACKET * 2) });
    expect(await closed).toBe('transport close');
    expect(await request(other.socket, 'join', { room: 'after-the-big-one' })).toMatchObject({ ok: true });
    // The same user can come back.
    const again = await connect(node.url, '/', big.token);
    expect(again.connected).toBe(true);
    again.close();
    other.socket.close();
  });
});

describe('per-user budget (USER_RATE_LIMIT)', () => {
  it('is shared by every socket of a user, on every node, and by post writes; other users are served', async () => {
    const room = uniqueName('room');
    const author = await registerUser(node.url);
    const friend = await registerUser(node.url);
    const post = await createPost(node.url, author); // 1 of the budget
    const a = await connect(node.url, '/', author.token);
    const b = await connect(node.url, '/', author.token);
    const f = await connect(node.url, '/', friend.token);
    // Redis back-end: the proxy alternates WebSockets between the two nodes.
    if (node.backend === 'redis') expect(node.nodeOf(String(a.id)).config.nodeId).not.toBe(node.nodeOf(String(b.id)).config.nodeId);
    for (const s of [a, b, f]) await request(s, 'join', { room });

    const onA: Ack[] = [];
    for (let i = 0; i < BURST; i++) onA.push(await request<Ack>(a, 'chatMessage', { room, text: `a${i}` }));
    expect(codes(onA)).toEqual(Array(BURST).fill('ok')); // 6 of 8
    // b's own bucket is full, the user's budget is not.
    const onB = [
      await request<Ack>(b, 'privateMessage', { to: friend.user.id, message: 'hi' }),
      await request<Ack>(b, 'message', { n: 1 }),
      await request<Ack>(b, 'chatMessage', { room, text: 'over' }),
      await request<Ack>(b, 'privateMessage', { to: friend.user.id, message: 'over' }),
    ];
    expect(codes(onB)).toEqual(['ok', 'ok', 'rate_limited', 'rate_limited']);

    const edit = await http<{ error: object }>(node.url, 'PUT', `/posts/${post.id}`, { token: author.token, body: { content: 'edited' } });
    expect(edit.status).toBe(429);
    expect(edit.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    const retryAfter = Number(edit.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
    expect(await request(f, 'chatMessage', { room, text: 'friend is served' })).toMatchObject({ ok: true });
    for (const s of [a, b, f]) s.close();
  });
});

describe('read state', () => {
  it("has a bucket of its own; moving a cursor also spends the user's budget (socket and HTTP), reading the state does not", async () => {
    const room = uniqueName('room');
    const reader = await registerUser(node.url);
    const [a, b, c] = [
      await connect(node.url, '/', reader.token),
      await connect(node.url, '/', reader.token),
      await connect(node.url, '/', reader.token),
    ];
    for (const s of [a, b]) await request(s, 'join', { room });
    // a: the bucket (BURST) runs out first; chat has a bucket of its own.
    const onA = [];
    for (let i = 0; i < BURST; i++) onA.push(await request<Ack>(a, 'readRoom', { room, position: i }));
    onA.push(await request<Ack>(a, 'readState'));
    expect(codes(onA)).toEqual([...Array(BURST).fill('ok'), 'rate_limited']);
    expect(await request(a, 'chatMessage', { room, text: 'chat is not a read' })).toMatchObject({ ok: true });
    // b: its bucket is full, the user's budget (USER_BUDGET, 6 spent) is not: 2 moves left, then none.
    const onB = [
      await request<Ack>(b, 'forgetRoom', { room }),
      await request<Ack>(b, 'readRoom', { room, position: 1 }),
      await request<Ack>(b, 'readRoom', { room, position: 2 }),
    ];
    expect(codes(onB)).toEqual(['ok', 'ok', 'rate_limited']);
    const put = await http(node.url, 'PUT', `/me/read-state/rooms/${room}`, { token: reader.token, body: { position: 1 } });
    expect(put.status).toBe(429);
    // Reading the state spends no budget.
    expect(await request(c, 'readState')).toMatchObject({ ok: true });
    expect((await http(node.url, 'GET', '/me/read-state', { token: reader.token })).status).toBe(200);
    for (const s of [a, b, c]) s.close();
  });
});

describe('order of a socket’s events', () => {
  it('a chatMessage waiting for the user budget is handled before the leaveRoom sent after it', async () => {
    const client = await registerAndConnect(node.url);
    const room = uniqueName('room');
    await request(client.socket, 'join', { room });
    const [chat, left] = await Promise.all([
      request<Ack>(client.socket, 'chatMessage', { room, text: 'before leaving' }),
      request<Ack>(client.socket, 'leaveRoom', room),
    ]);
    expect([chat, left]).toEqual([{ ok: true, id: expect.any(Number), position: expect.any(Number) }, { ok: true }]);
    client.socket.close();
  });
});

describe("'message' size", () => {
  const bytes = (data: unknown) => new TextEncoder().encode(JSON.stringify(data)).length;

  it('data up to 4 KiB serialised is relayed; larger is payload_too_large and relayed to nobody', async () => {
    const sender = await registerAndConnect(node.url);
    const other = await registerAndConnect(node.url);
    const sockets: ClientSocket[] = [sender.socket, other.socket];
    const fits = { blob: 'x'.repeat(4096 - bytes({ blob: '' })) };
    const over = { blob: `${fits.blob}x` };
    // 2100 characters, but 2 bytes each in UTF-8: bytes count, not characters.
    const wide = { blob: 'é'.repeat(2100) };
    expect([bytes(fits), bytes(over)]).toEqual([4096, 4097]);
    const relayed = nextEvent(other.socket, 'newMessage');
    for (const data of [over, wide]) {
      expect(await request(sender.socket, 'message', data)).toEqual({
        ok: false,
        error: { code: 'payload_too_large', message: expect.any(String) },
      });
    }
    expect(await request(sender.socket, 'message', fits)).toEqual({ ok: true });
    // The first thing the other socket is given is the one that fits.
    expect(await relayed).toEqual(fits);
    for (const s of sockets) s.close();
  });
});

describe('HTTP rate limits', () => {
  const AUTH_PER_IP = 4;
  const AUTH_PER_USERNAME = 3;
  const HTTP_PER_MIN = 30;
  let web: TestBackend;
  beforeAll(async () => {
    web = await startTestBackend({
      AUTH_RATE_LIMIT_PER_IP: String(AUTH_PER_IP),
      AUTH_RATE_LIMIT_PER_USERNAME: String(AUTH_PER_USERNAME),
      AUTH_RATE_LIMIT_WINDOW_SEC: '3600',
      HTTP_RATE_LIMIT_PER_MIN: String(HTTP_PER_MIN),
    });
  });
  afterAll(() => web?.close());

  // The test client is on 127.0.0.1, a trusted proxy by default (TRUST_PROXY): X-Forwarded-For
  // names the client. Addresses from TEST-NET-3 (203.0.113.0/24), one set per test.
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  const post = (path: string, ip: string, body: object) => http<{ error?: object }>(web.url, 'POST', path, { body, headers: from(ip) });
  const expectLimited = (res: { status: number; body: unknown; headers: Headers }, windowSec: number) => {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(windowSec);
  };

  it('login: per username, however many addresses the guesses come from', async () => {
    const victim = { username: uniqueName('victim'), password: 'password123' };
    const bystander = { username: uniqueName('bystander'), password: 'password123' };
    expect((await post('/auth/register', '203.0.113.1', victim)).status).toBe(201);
    expect((await post('/auth/register', '203.0.113.2', bystander)).status).toBe(201);
    for (let i = 0; i < AUTH_PER_USERNAME; i++) {
      expect((await post('/auth/login', `203.0.113.${10 + i}`, { ...victim, password: 'wrong-guess' })).status).toBe(401);
    }
    // Even the right password, from a fresh address.
    expectLimited(await post('/auth/login', '203.0.113.19', victim), 3600);
    expect((await post('/auth/login', '203.0.113.19', bystander)).status).toBe(200);
  });

  it('login and register: per client address, together', async () => {
    for (let i = 0; i < AUTH_PER_IP - 1; i++) {
      expect((await post('/auth/register', '203.0.113.20', { username: uniqueName(), password: 'password123' })).status).toBe(201);
    }
    expect((await post('/auth/login', '203.0.113.20', { username: uniqueName(), password: 'password123' })).status).toBe(401);
    expectLimited(await post('/auth/register', '203.0.113.20', { username: uniqueName(), password: 'password123' }), 3600);
    expectLimited(await post('/auth/login', '203.0.113.20', { username: uniqueName(), password: 'password123' }), 3600);
    expect((await post('/auth/register', '203.0.113.21', { username: uniqueName(), password: 'password123' })).status).toBe(201);
  });

  it('password change and account deletion: per account, whatever the address (a stolen token cannot guess the password)', async () => {
    const registered = await post('/auth/register', '203.0.113.40', { username: uniqueName(), password: 'password123' });
    const { token } = registered.body as unknown as { token: string };
    const attempt = (path: string, method: string, ip: string, body: object) =>
      http(web.url, method, path, { token, body, headers: from(ip) });
    for (let i = 0; i < AUTH_PER_USERNAME; i++) {
      const res = await attempt('/auth/password', 'POST', `203.0.113.${41 + i}`, {
        currentPassword: 'wrong-guess',
        newPassword: 'new-password-1',
      });
      expect(res.status).toBe(401);
    }
    expectLimited(
      await attempt('/auth/password', 'POST', '203.0.113.49', { currentPassword: 'password123', newPassword: 'new-password-1' }),
      3600,
    );
    for (let i = 0; i < AUTH_PER_USERNAME; i++) {
      expect((await attempt('/me', 'DELETE', `203.0.113.${50 + i}`, { password: 'wrong-guess' })).status).toBe(401);
    }
    expectLimited(await attempt('/me', 'DELETE', '203.0.113.59', { password: 'password123' }), 3600);
    // Nothing changed: the token (so the password) is the same.
    expect((await http(web.url, 'GET', '/me', { token, headers: from('203.0.113.60') })).status).toBe(200);
  });

  it('every route: per client address (HTTP_RATE_LIMIT_PER_MIN), unknown routes included', async () => {
    for (let i = 0; i < HTTP_PER_MIN; i++) {
      expect((await http(web.url, 'GET', i % 2 ? '/healthz' : '/no-such-route', { headers: from('203.0.113.30') })).status).toBe(
        i % 2 ? 200 : 404,
      );
    }
    expectLimited(await http(web.url, 'GET', '/healthz', { headers: from('203.0.113.30') }), 60);
    expectLimited(await http(web.url, 'GET', '/no-such-route', { headers: from('203.0.113.30') }), 60);
    expect((await http(web.url, 'GET', '/healthz', { headers: from('203.0.113.31') })).status).toBe(200);
  });
});
