import { afterAll, beforeAll, inject } from 'vitest';
import { startBackend, type TestBackend } from './backend.ts';
import { connect, registerAndConnect, type Client, type ClientSocket, type Session } from './client.ts';
import { createTestDatabase, startRedisServer, type RedisServer, type TestDatabase } from '@parley/devcluster';
import { startNode, type TestNode } from './node.ts';

/**
 * The gateway(s) a test file runs against, on the back-end its vitest project provides
 * (`backend`: 'memory' in the `node` project, 'redis' in the `redis` project; see
 * vitest.config.ts), over a fresh database. Only for test files (reads vitest's `inject`).
 * @example node = await startTestBackend({ RATE_LIMIT_BURST: '200' });
 */
export function startTestBackend(env: Record<string, string | undefined> = {}): Promise<TestBackend> {
  return startBackend(
    {
      backend: inject('backend') ?? 'memory',
      postgresUrl: inject('postgresUrl'),
      redisUrl: inject('redisUrl'),
      redisClusterNodes: inject('redisClusterNodes'),
    },
    env,
  );
}

/** What `useTestBackend` sets up before the file's tests (read in tests, not at import). */
export interface BackendWithSockets {
  node: TestBackend;
  /** A socket of `session` on `namespace` (default '/') through the back-end's URL, closed after the file's tests. */
  open: (session: Session, namespace?: string) => Promise<ClientSocket>;
}

/**
 * A back-end (startTestBackend(env)) started in beforeAll, and closed in afterAll with every
 * socket `open` made.
 * @example const the = useTestBackend({ RATE_LIMIT_BURST: '200' }); … const socket = await the.open(session);
 */
export function useTestBackend(env: Record<string, string | undefined> = {}): BackendWithSockets {
  const sockets: ClientSocket[] = [];
  const the: BackendWithSockets = {
    node: undefined as unknown as TestBackend,
    open: async (session, namespace = '/') => {
      const socket = await connect(the.node.url, namespace, session.token);
      sockets.push(socket);
      return socket;
    },
  };
  beforeAll(async () => {
    the.node = await startTestBackend(env);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await the.node?.close();
  });
  return the;
}

/** What `useAliceAndBob` sets up before the file's tests (read in tests, not at import). */
export interface AliceAndBob {
  node: TestBackend;
  alice: Client;
  bob: Client;
  /** A second socket of alice's: in Redis mode on the other node (round robin), as after a reconnection elsewhere. */
  aliceAgain: ClientSocket;
}

/**
 * A backend (startTestBackend(env)) with two connected users, alice with a second socket,
 * started in beforeAll and closed in afterAll.
 * @example const the = useAliceAndBob({ RATE_LIMIT_BURST: '200' }); … the.alice.socket
 */
export function useAliceAndBob(env: Record<string, string | undefined> = {}): AliceAndBob {
  const the = {} as AliceAndBob;
  beforeAll(async () => {
    the.node = await startTestBackend(env);
    [the.alice, the.bob] = await Promise.all([registerAndConnect(the.node.url), registerAndConnect(the.node.url)]);
    the.aliceAgain = await connect(the.node.url, '/', the.alice.token);
  });
  afterAll(async () => {
    for (const s of [the.alice?.socket, the.bob?.socket, the.aliceAgain]) s?.close();
    await the.node?.close();
  });
  return the;
}

/** What `useNodesOnPrivateRedis` sets up before the file's (or describe's) tests. */
export interface NodesOnPrivateRedis {
  db: TestDatabase;
  /** A redis-server of this file's own: the tests may pause, stop and start it. */
  redis: RedisServer;
  nodes: TestNode[];
}

/**
 * `count` in-process nodes over a fresh database and a private redis-server, started in
 * beforeAll (one after the other: the first migrates; NODE_ID `<idPrefix>-<n>` when given) and
 * closed in afterAll (the server resumed first, in case a test left it paused).
 * @example const the = useNodesOnPrivateRedis(2, { LOG_LEVEL: 'info' }, 'g'); … the.nodes[0].url
 */
export function useNodesOnPrivateRedis(count: number, env: Record<string, string> = {}, idPrefix?: string): NodesOnPrivateRedis {
  const the = { nodes: [] as TestNode[] } as NodesOnPrivateRedis;
  beforeAll(async () => {
    the.db = await createTestDatabase(inject('postgresUrl'));
    the.redis = await startRedisServer();
    for (let i = 1; i <= count; i++) {
      the.nodes.push(
        await startNode({
          DATABASE_URL: the.db.url,
          REDIS_URL: the.redis.url,
          ...env,
          ...(idPrefix ? { NODE_ID: `${idPrefix}-${i}` } : {}),
          ...(i > 1 ? { MIGRATE_ON_START: 'false' } : {}),
        }),
      );
    }
  });
  afterAll(async () => {
    the.redis?.resume();
    for (const n of the.nodes) await n.close();
    await the.redis?.stop();
    await the.db?.drop();
  });
  return the;
}
