import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Ack, ChatMessage, RoomUsers } from '@parley/protocol';
import {
  connect,
  connectError,
  createTestDatabase,
  http,
  nextEvent,
  registerAndConnect,
  registerUser,
  request,
  startNode,
  startNodeProcess,
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

// Bounded waits: a dependency that stops answering (SIGSTOP) or goes away makes every ack,
// handshake and HTTP call that needs it answer `unavailable` / 503 within its documented bound
// (docs/CLUSTER.md "Faults and bounds"), the write queue refuses what exceeds its cap at once,
// and the node recovers on its own. The bounds are set low here; each wait below allows the
// bound plus SLACK_MS for a loaded machine.

const SLACK_MS = 1500;
const unavailable = { ok: false, error: { code: 'unavailable', message: expect.any(String) } };
const sockets: ClientSocket[] = [];
afterAll(() => {
  for (const s of sockets) s.close();
});

/** Emit with an ack, answered within `ms` (a hang fails, named). */
function ack<T = Ack<object>>(socket: ClientSocket, event: string, payload: unknown, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    socket
      .timeout(ms)
      .emit(event, payload, (err: Error | null, answer: T) =>
        err ? reject(new Error(`${event}: no ack within ${ms} ms`)) : resolve(answer),
      );
  });
}

describe('PostgreSQL stops answering (SIGSTOP)', () => {
  const DB = { connect: 1000, statement: 1500, query: 2000, writeWait: 3000, writeQueue: 10 };
  /** One database call: a connection (or a free one in the pool), then its query. */
  const CALL_MS = DB.connect + DB.query + SLACK_MS;
  let pg: PostgresServer;
  let node: TestNode;
  beforeAll(async () => {
    pg = await startPostgresServer();
    node = await startNode({
      DATABASE_URL: pg.url(),
      DATABASE_CONNECT_TIMEOUT_MS: String(DB.connect),
      DATABASE_STATEMENT_TIMEOUT_MS: String(DB.statement),
      DATABASE_QUERY_TIMEOUT_MS: String(DB.query),
      WRITE_WAIT_MS: String(DB.writeWait),
      WRITE_QUEUE_MAX: String(DB.writeQueue),
      // The flood below comes from one socket.
      RATE_LIMIT_BURST: '100',
    });
  });
  afterAll(async () => {
    await pg?.resume();
    await node?.close();
    await pg?.stop();
  });

  it('acks, HTTP, handshakes and /readyz answer unavailable within their bounds; the write queue is capped; all recover after SIGCONT', async () => {
    const room = uniqueName('room');
    const alice = await registerAndConnect(node.url);
    sockets.push(alice.socket);
    await request(alice.socket, 'join', { room });
    const bob = await registerUser(node.url);

    await pg.pause();

    // The flood: a first message goes in flight (its batch is taken on the turn after it arrives;
    // the join's ack, sent after it, proves that turn has passed), then 30 more: WRITE_QUEUE_MAX
    // wait behind it, the other 20 are refused at once, before the first one's bound runs out.
    const order: string[] = [];
    const send = (label: string) =>
      ack(alice.socket, 'chatMessage', { room, text: label }, DB.writeWait + SLACK_MS).then((answer) => {
        order.push(label);
        return answer;
      });
    const first = send('first');
    await request(alice.socket, 'join', { room });
    const flood = Array.from({ length: 30 }, (_, i) => send(`f${i}`));
    expect(await Promise.all([first, ...flood])).toEqual([first, ...flood].map(() => unavailable));
    const refused = Array.from({ length: 20 }, (_, i) => `f${i + DB.writeQueue}`);
    const queued = Array.from({ length: DB.writeQueue }, (_, i) => `f${i}`);
    expect(order).toEqual([...refused, 'first', ...queued]);

    const within503 = async (method: string, path: string, options: object) =>
      expect(await within(`${method} ${path} with PostgreSQL paused`, http(node.url, method, path, options), CALL_MS)).toMatchObject({
        status: 503,
        body: { error: { code: 'unavailable' } },
      });
    await Promise.all([
      within503('GET', '/me', { token: alice.token }),
      within503('GET', `/rooms/${room}/messages`, { token: alice.token }),
      within503('POST', '/auth/login', { body: { username: bob.user.username, password: 'password123' } }),
      within503('GET', '/posts', {}),
      (async () =>
        expect(await within('/readyz with PostgreSQL paused', http(node.url, 'GET', '/readyz'), CALL_MS)).toMatchObject({
          status: 503,
          body: { status: 'unavailable', checks: { database: 'down' } },
        }))(),
      (async () => {
        // The handshake's token check waits in the user look-up queue: bounded by WRITE_WAIT_MS.
        const err = await within('a handshake with PostgreSQL paused', connectError(node.url, '/', bob.token), DB.writeWait + SLACK_MS);
        expect({ message: err.message, data: err.data }).toEqual({
          message: 'Authentication error',
          data: { code: 'unavailable', message: expect.any(String) },
        });
      })(),
    ]);
    expect(alice.socket.connected).toBe(true);

    await pg.resume();

    // No restart: every path works again.
    expect((await within('/readyz after SIGCONT', http(node.url, 'GET', '/readyz'), CALL_MS)).status).toBe(200);
    expect((await within('/me after SIGCONT', http(node.url, 'GET', '/me', { token: alice.token }), CALL_MS)).status).toBe(200);
    const heard = nextEvent<ChatMessage>(alice.socket, 'message', (m) => m.text === 'back again');
    const back = await ack(alice.socket, 'chatMessage', { room, text: 'back again' }, CALL_MS);
    const { id, position } = await heard;
    expect(back).toEqual({ ok: true, id, position });
    const bobSocket = await within('a handshake after SIGCONT', connect(node.url, '/', bob.token), CALL_MS);
    sockets.push(bobSocket);
    expect(await request(bobSocket, 'join', { room })).toMatchObject({ ok: true, room });
  });
});

const roomUsers = (socket: ClientSocket, room: string, users: string[]) =>
  nextEvent<RoomUsers>(socket, 'roomUsers', (r) => r.room === room && r.users.length === users.length);

/** What the node logs once its presence share is back in Redis: kept (paused), or lost with a restart (down). */
const filedAgain = { paused: 'presence: share filed again after failed commands', down: 'presence: re-registered after Redis lost it' };

for (const fault of ['paused', 'down'] as const) {
  describe(`Redis ${fault === 'paused' ? 'stops answering (SIGSTOP)' : 'goes away (SIGKILL)'}`, () => {
    const COMMAND_MS = 1000;
    let db: TestDatabase;
    let redis: RedisServer;
    let node: TestNode;
    beforeAll(async () => {
      db = await createTestDatabase(inject('postgresUrl'));
      redis = await startRedisServer();
      node = await startNode({
        DATABASE_URL: db.url,
        REDIS_URL: redis.url,
        REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_MS),
        LOG_LEVEL: 'info',
      });
    });
    afterAll(async () => {
      redis?.resume();
      await node?.close();
      await redis?.stop();
      await db?.drop();
    });

    it("joins answer unavailable within the bound, chat still reaches the node's own sockets, /readyz names redis; presence heals once it is back", async () => {
      const room = uniqueName('room');
      const [alice, bob, carol] = await Promise.all([registerAndConnect(node.url), registerAndConnect(node.url), registerUser(node.url)]);
      sockets.push(alice.socket, bob.socket);
      await request(alice.socket, 'join', { room });

      const noticed = node.nextLog('redis down', (e) => e.msg === 'redis connection error' && e.role === 'pub', COMMAND_MS + SLACK_MS);
      if (fault === 'paused') redis.pause();
      else await redis.halt();

      const [joined] = await Promise.all([ack(bob.socket, 'join', { room }, COMMAND_MS + SLACK_MS), noticed]);
      expect(joined).toEqual(unavailable);
      // Stored (PostgreSQL is fine), acked, and delivered to the room's sockets on this node
      // without waiting for Redis (the adapter's publish gives up within the bound).
      const texts = Array.from({ length: 20 }, (_, i) => `while ${fault} ${i}`);
      const heard = within(
        `bob hearing 20 messages with Redis ${fault}`,
        new Promise<void>((resolve) => {
          const seen = new Set<string>();
          bob.socket.on('message', (m: ChatMessage) => {
            if (seen.add(m.text).size === texts.length && texts.every((t) => seen.has(t))) resolve();
          });
        }),
        COMMAND_MS + SLACK_MS,
      );
      const [acks] = await Promise.all([
        Promise.all(texts.map((text) => ack(alice.socket, 'chatMessage', { room, text }, COMMAND_MS + SLACK_MS))),
        heard,
      ]);
      expect(acks).toEqual(texts.map(() => ({ ok: true, id: expect.any(Number), position: expect.any(Number) })));
      expect(await within(`/readyz with Redis ${fault}`, http(node.url, 'GET', '/readyz'), COMMAND_MS + SLACK_MS)).toMatchObject({
        status: 503,
        body: { checks: { database: 'ok', redis: 'down' } },
      });
      // Nothing piles up in the command connection's offline queue while Redis is away.
      expect((node.app.redis?.pub as unknown as { offlineQueue: { length: number } }).offlineQueue.length).toBe(0);

      // Back: the share this node holds (bob's join, refused meanwhile) is filed again by itself.
      const healed = node.nextLog('presence filed again', (e) => e.msg === filedAgain[fault], 15_000);
      if (fault === 'paused') redis.resume();
      else await redis.start();
      await healed;
      const carolSocket = await connect(node.url, '/', carol.token);
      sockets.push(carolSocket);
      const listed = roomUsers(alice.socket, room, [alice.user.username, bob.user.username, carol.user.username]);
      expect(await request(carolSocket, 'join', { room })).toMatchObject({
        ok: true,
        room,
        users: [alice.user.username, bob.user.username, carol.user.username],
      });
      await listed;
    });
  });
}

describe('SIGTERM with Redis down', () => {
  it('flushes the buffered writes first (every one acked and stored), then exits 0 within the shutdown bound', async () => {
    const db = await createTestDatabase(inject('postgresUrl'));
    const redis = await startRedisServer();
    const shutdownMs = 6000;
    const node = await startNodeProcess({
      NODE_ID: 'bounded-1',
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      SHUTDOWN_TIMEOUT_MS: String(shutdownMs),
      // The writes wait for a lock the test holds: not a fault to answer `unavailable` for.
      DATABASE_STATEMENT_TIMEOUT_MS: '30000',
      DATABASE_QUERY_TIMEOUT_MS: '31000',
      WRITE_WAIT_MS: '31000',
    });
    try {
      const room = uniqueName('room');
      const alice = await registerAndConnect(node.url);
      sockets.push(alice.socket);
      await request(alice.socket, 'join', { room });

      const release = await db.hold('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
      const sends = Array.from({ length: 20 }, (_, i) =>
        ack<Ack<{ id: number }>>(alice.socket, 'chatMessage', { room, text: `m${i}` }, 20_000),
      );
      // Handlers start in arrival order: once this ack is back, all 20 are in the writer.
      await request(alice.socket, 'join', { room });
      const noticed = node.nextLog('redis down', (e) => e.msg === 'redis connection error' && e.role === 'pub');
      await redis.halt();
      await noticed;

      const shuttingDown = node.nextLog('shutting down', (e) => e.msg === 'shutting down');
      const startedAt = Date.now();
      const exited = node.kill('SIGTERM');
      await shuttingDown;
      await release();
      expect(await within('the node exiting', exited, shutdownMs + SLACK_MS)).toEqual({ code: 0, signal: null });
      expect(Date.now() - startedAt).toBeLessThan(shutdownMs);

      const results = await Promise.all(sends);
      expect(results).toEqual(sends.map(() => ({ ok: true, id: expect.any(Number), position: expect.any(Number) })));
      const stored = await db.query<{ id: number }>('SELECT id FROM messages WHERE room = $1 ORDER BY id', [room]);
      expect(stored.map((r) => Number(r.id))).toEqual(results.map((r) => (r as { id: number }).id).sort((a, b) => a - b));
    } finally {
      await node.kill('SIGKILL');
      await redis.stop();
      await db.drop();
    }
  });
});
