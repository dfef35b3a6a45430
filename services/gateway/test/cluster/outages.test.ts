import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import type { Ack, ChatMessage } from '@parley/protocol';
import {
  connect,
  createTestDatabase,
  http,
  login,
  nextEvent,
  registerAndConnect,
  registerUser,
  request,
  startNode,
  startPostgresServer,
  startRedisServer,
  uniqueName,
  within,
  type ClientSocket,
  type PostgresServer,
  type RedisServer,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

// A dependency going away and coming back, with private servers this file may stop:
// the node answers 503 `unavailable` meanwhile (never hangs, never 500), keeps its sockets,
// and recovers on its own.

/** Longest an answer may take while a dependency is down: a hang fails here, named. */
const ANSWER_MS = 5000;
const bounded = <T>(what: string, promise: Promise<T>) => within(what, promise, ANSWER_MS);
const sockets: ClientSocket[] = [];
afterAll(() => {
  for (const s of sockets) s.close();
});

describe('Redis down', () => {
  let db: TestDatabase;
  let redis: RedisServer;
  let node: TestNode;
  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresUrl'));
    redis = await startRedisServer();
    node = await startNode({ DATABASE_URL: db.url, REDIS_URL: redis.url, LOG_LEVEL: 'info' });
  });
  afterAll(async () => {
    await node?.close();
    await redis?.stop();
    await db?.drop();
  });

  it('/readyz answers 503 naming redis while it is down, 200 once it is back', async () => {
    expect(await bounded('/readyz', http(node.url, 'GET', '/readyz'))).toMatchObject({
      status: 200,
      body: { status: 'ready', nodeId: node.config.nodeId, checks: { database: 'ok', redis: 'ok' } },
    });
    const noticed = node.nextLog('pub connection error', (e) => e.msg === 'redis connection error' && e.role === 'pub');
    await redis.halt();
    await noticed;
    expect(await bounded('/readyz with Redis down', http(node.url, 'GET', '/readyz'))).toMatchObject({
      status: 503,
      body: { status: 'unavailable', nodeId: node.config.nodeId, checks: { database: 'ok', redis: 'down' } },
    });
    expect((await bounded('/healthz with Redis down', http(node.url, 'GET', '/healthz'))).status).toBe(200);

    const back = node.nextLog('pub connection back', (e) => e.msg === 'redis connection back' && e.role === 'pub');
    await redis.start();
    await back;
    expect(await bounded('/readyz after Redis is back', http(node.url, 'GET', '/readyz'))).toMatchObject({
      status: 200,
      body: { status: 'ready', checks: { database: 'ok', redis: 'ok' } },
    });
  });
});

describe('PostgreSQL stopped and started again', () => {
  let pg: PostgresServer;
  let node: TestNode;
  beforeAll(async () => {
    pg = await startPostgresServer();
    node = await startNode({ DATABASE_URL: pg.url() });
  });
  afterAll(async () => {
    await node?.close();
    await pg?.stop();
  });

  it('answers 503 unavailable meanwhile, keeps its sockets, and recovers without a restart', async () => {
    const room = uniqueName('room');
    const alice = await registerAndConnect(node.url);
    sockets.push(alice.socket);
    await request(alice.socket, 'join', { room });
    const bob = await registerUser(node.url);

    await pg.halt();

    const unavailable = { error: { code: 'unavailable', message: expect.any(String) } };
    const routes: [string, string, object][] = [
      ['POST', '/auth/register', { body: { username: uniqueName(), password: 'password123' } }],
      ['POST', '/auth/login', { body: { username: bob.user.username, password: 'password123' } }],
      ['GET', '/me', { token: alice.token }],
      ['GET', `/rooms/${room}/messages`, { token: alice.token }],
      ['GET', '/posts', {}],
    ];
    for (const [method, path, options] of routes) {
      expect(
        await bounded(`${method} ${path} with PostgreSQL down`, http(node.url, method, path, options)),
        `${method} ${path}`,
      ).toMatchObject({
        status: 503,
        body: unavailable,
      });
    }
    expect(await bounded('/readyz with PostgreSQL down', http(node.url, 'GET', '/readyz'))).toMatchObject({
      status: 503,
      body: { status: 'unavailable', checks: { database: 'down' } },
    });
    expect(await request(alice.socket, 'chatMessage', { room, text: 'into the void' })).toEqual({ ok: false, ...unavailable });
    expect(alice.socket.connected).toBe(true);

    await pg.start();

    // No restart: the pool opens new connections to the server that is back.
    expect((await bounded('/readyz after PostgreSQL is back', http(node.url, 'GET', '/readyz'))).status).toBe(200);
    const carol = await registerUser(node.url);
    expect((await login(node.url, bob.user.username, 'password123')).user).toEqual(bob.user);
    const heard = nextEvent<ChatMessage>(alice.socket, 'message', (m) => m.text === 'back again');
    const ack = await request<Ack<{ id: number }>>(alice.socket, 'chatMessage', { room, text: 'back again' });
    expect(ack).toMatchObject({ ok: true });
    expect((await heard).id).toBe((ack as { id: number }).id);
    const carolSocket = await connect(node.url, '/', carol.token);
    sockets.push(carolSocket);
    expect(await request(carolSocket, 'join', { room })).toMatchObject({ ok: true, room });
  });

  it('@parley/client whose handshake was refused as unavailable connects again once PostgreSQL is back, and catches up', async () => {
    const room = uniqueName('room');
    const [dana, erin] = await Promise.all([registerUser(node.url), registerAndConnect(node.url)]);
    sockets.push(erin.socket);
    await request(erin.socket, 'join', { room });
    const client = new ParleyClient({ url: node.url, token: dana.token, socket: { transports: ['websocket'] } });
    try {
      const got: string[] = [];
      await client.connected();
      await client.join(room);
      const caughtUp = within(
        '"while away" through onMessage',
        new Promise<void>((resolve) => client.onMessage((m) => (got.push(m.text), m.text === 'while away' && resolve()))),
        20_000,
      );
      await pg.halt();
      // The connection drops; every handshake now needs the database and is refused.
      const refused = within(
        'a refused handshake',
        new Promise<Error & { data?: unknown }>((resolve) => client.socket.once('connect_error', resolve)),
      );
      client.socket.io.engine.close();
      expect((await refused).data).toMatchObject({ code: 'unavailable' });
      await pg.start();
      // Sent once PostgreSQL is back, whether before or after the client is: it gets it once.
      expect(
        await bounded(
          'a send after PostgreSQL is back',
          request<Ack<{ id: number }>>(erin.socket, 'chatMessage', { room, text: 'while away' }),
        ),
      ).toMatchObject({ ok: true });
      await caughtUp;
      expect(got).toEqual(['while away']);
    } finally {
      client.close();
    }
  });
});
