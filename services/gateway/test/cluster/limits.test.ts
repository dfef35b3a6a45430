import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Ack } from '@parley/protocol';
import {
  connect,
  createTestDatabase,
  http,
  registerUser,
  request,
  requestFrom,
  startCluster,
  startNode,
  startRedisServer,
  uniqueName,
  within,
  type Cluster,
  type RedisServer,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

/** Longest a login may take while Redis fails: three limit checks, each bounded well below this. */
const ANSWER_MS = 2000;
const AUTH_PER_IP = 3;

describe('client addresses through real nginx', () => {
  let db: TestDatabase;
  let cluster: Cluster;
  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresUrl'));
    cluster = await startCluster(2, {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: uniqueName('limits'),
      AUTH_RATE_LIMIT_PER_IP: String(AUTH_PER_IP),
      AUTH_RATE_LIMIT_WINDOW_SEC: '3600',
    });
  });
  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
  });

  const register = (baseUrl: string, localAddress: string, headers: Record<string, string> = {}) =>
    requestFrom<{ error?: { code: string } }>(baseUrl, '/auth/register', localAddress, {
      method: 'POST',
      body: { username: uniqueName(), password: 'password123' },
      headers,
    });

  it('nodes limit the client address nginx forwards, not nginx’s own nor one the client made up', async () => {
    // 127.0.0.2 claims another address each time: nginx appends the real one, which counts.
    for (let i = 1; i <= AUTH_PER_IP; i++) {
      expect((await register(cluster.nginx.url, '127.0.0.2', { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(201);
    }
    const refused = await register(cluster.nginx.url, '127.0.0.2', { 'x-forwarded-for': '203.0.113.9' });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.any(String) } });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another client behind the same nginx has its own budget.
    expect((await register(cluster.nginx.url, '127.0.0.3')).status).toBe(201);
  });

  it('a client that is not a trusted proxy cannot choose its address with X-Forwarded-For', async () => {
    const direct = (cluster.nodes[0] as { url: string }).url;
    for (let i = 1; i <= AUTH_PER_IP; i++) {
      expect((await register(direct, '127.0.0.4', { 'x-forwarded-for': `203.0.113.${40 + i}` })).status).toBe(201);
    }
    expect((await register(direct, '127.0.0.4', { 'x-forwarded-for': '203.0.113.49' })).status).toBe(429);
  });
});

describe('the limits while Redis fails', () => {
  const USER_BUDGET = 3;
  let db: TestDatabase;
  let redis: RedisServer;
  let node: TestNode;
  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresUrl'));
    redis = await startRedisServer();
    node = await startNode({
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      USER_RATE_LIMIT: String(USER_BUDGET),
      USER_RATE_LIMIT_WINDOW_SEC: '3600',
    });
  });
  afterAll(async () => {
    await node?.close();
    await redis?.stop();
    await db?.drop();
  });

  const login = (username: string) =>
    within('login while Redis fails', http(node.url, 'POST', '/auth/login', { body: { username, password: 'wrong-password' } }), ANSWER_MS);

  it('Redis not answering: login is answered within the bound (limits fail open, logged); the per-user budget falls back to this node', async () => {
    const room = uniqueName('room');
    const alice = await registerUser(node.url);
    const socket = await connect(node.url, '/', alice.token);
    await request(socket, 'join', { room });
    const warned = node.nextLog('fail-open warning', (e) => e.msg === 'rate limit store unavailable: not limiting');
    // Every command of every client waits (the connections stay up): only a timeout ends the wait.
    const admin = new Redis(redis.url, { lazyConnect: true });
    await admin.connect();
    await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');

    expect((await login(alice.user.username)).status).toBe(401);
    await warned;
    const acks: Ack[] = [];
    for (let i = 0; i <= USER_BUDGET; i++)
      acks.push(await within('chat while Redis waits', request<Ack>(socket, 'chatMessage', { room, text: `m${i}` }), ANSWER_MS));
    expect(acks.map((a) => (a.ok ? 'ok' : a.error.code))).toEqual([...Array<string>(USER_BUDGET).fill('ok'), 'rate_limited']);
    // The pause ends (this PING waits for it): nothing is left in flight for the next test's kill.
    await within('Redis answering again', admin.ping(), 10_000);
    admin.disconnect();
    socket.close();
    // The command connection gave up on the paused Redis (REDIS_COMMAND_TIMEOUT_MS) and reconnects:
    // the next test needs it ready, or its drop would not be a new error.
    const pub = node.app.redis!.pub;
    if (pub.status !== 'ready')
      await within('the command connection ready again', new Promise((resolve) => pub.once('ready', resolve)), 10_000);
  });

  it('Redis stopped: login is answered at once', async () => {
    const alice = await registerUser(node.url);
    const noticed = node.nextLog('pub connection error', (e) => e.msg === 'redis connection error' && e.role === 'pub');
    await redis.halt();
    await noticed;
    expect((await login(alice.user.username)).status).toBe(401);
    const back = node.nextLog('pub connection back', (e) => e.msg === 'redis connection back' && e.role === 'pub');
    await redis.start();
    await back;
  });
});
