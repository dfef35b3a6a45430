import { randomBytes } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
import { createTestDatabase } from '@parley/devcluster';
import { startNode, type TestNode, type TestNodeWithDatabase } from './node.ts';
import { startRoundRobinProxy } from './proxy.ts';

/** Where a gateway keeps what crosses nodes: in memory (one node alone), in one Redis, or in a Redis Cluster. */
export type BackendKind = 'memory' | 'redis' | 'redis-cluster';

export interface BackendServices {
  backend: BackendKind;
  postgresUrl: string;
  /** Required for 'redis'. */
  redisUrl?: string;
  /** Required for 'redis-cluster': REDIS_CLUSTER_NODES of a Redis Cluster. */
  redisClusterNodes?: string;
}

/**
 * What a gateway test talks to. `url` is the only address a test needs: in memory mode the one
 * node, in Redis mode a round-robin proxy over two nodes (see startRoundRobinProxy), so that
 * broadcasts, presence and notifications cross nodes without the test arranging it. `app`,
 * `config` are the first node's; use `nodeOf` for the node that holds a given socket.
 */
export interface TestBackend extends TestNodeWithDatabase {
  backend: BackendKind;
  /** One node in memory mode; two in Redis mode, sharing the database and the Redis key prefix. */
  nodes: TestNode[];
  /** The node that holds the socket `socketId` (any namespace); throws if none does. */
  nodeOf(socketId: string): TestNode;
}

/** Nodes a Redis-mode backend runs: enough for every message to have another node to cross to. */
const REDIS_NODES = 2;

function holds(node: TestNode, socketId: string): boolean {
  for (const nsp of node.app.io._nsps.values()) if (nsp.sockets.has(socketId)) return true;
  return false;
}

/** Delete every key under the Redis key prefix `prefix` on `redis` (one server of the store). */
async function deleteKeysOn(redis: Redis, prefix: string): Promise<void> {
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`, `{${prefix}:*`]) {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      // One key at a time: in a cluster, keys of one DEL must share a slot.
      for (const key of keys) await redis.del(key);
      cursor = nextCursor;
    } while (cursor !== '0');
  }
}

/**
 * Delete every key under the Redis key prefix `prefix` (what presence leaves behind: user
 * names, counters), on the one Redis or on every master of the cluster.
 */
async function deleteKeys(store: { url: string } | { clusterNodes: string }, prefix: string): Promise<void> {
  if ('url' in store) {
    const redis = new Redis(store.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      await deleteKeysOn(redis, prefix);
    } finally {
      redis.disconnect();
    }
    return;
  }
  const nodes = store.clusterNodes.split(',').map((a) => ({ host: a.split(':')[0]!, port: Number(a.split(':')[1]) }));
  const cluster = new Cluster(nodes, { lazyConnect: true, redisOptions: { maxRetriesPerRequest: 1 } });
  await cluster.connect();
  try {
    for (const master of cluster.nodes('master')) await deleteKeysOn(master, prefix);
  } finally {
    cluster.disconnect();
  }
}

/**
 * A fresh database and the gateway(s) over it, on the back-end `services.backend` names:
 * - 'memory': one in-process node without REDIS_URL (in-memory adapter and presence);
 * - 'redis' / 'redis-cluster': two in-process nodes (node ids `<prefix>-1`, `<prefix>-2`) on
 *   `services.redisUrl` / the Redis Cluster `services.redisClusterNodes`
 *   under a REDIS_KEY_PREFIX of their own (adapter channels, presence keys, notification bus),
 *   behind a round-robin proxy.
 * `env` goes to every node. `close()` stops everything, drops the database and, in Redis mode,
 * deletes the prefix's keys.
 */
export async function startBackend(services: BackendServices, env: Record<string, string | undefined> = {}): Promise<TestBackend> {
  const db = await createTestDatabase(services.postgresUrl);
  const nodes: TestNode[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await db.drop();
  };
  try {
    if (services.backend === 'memory') {
      const node = await startNode({ DATABASE_URL: db.url, ...env });
      nodes.push(node);
      cleanups.push(() => node.close());
      return { ...node, db, backend: 'memory', nodes, nodeOf: (id) => find(nodes, id), close };
    }
    const store = storeOf(services);
    const prefix = `t-${randomBytes(6).toString('hex')}`;
    cleanups.push(() => deleteKeys(store, prefix));
    const shared = {
      DATABASE_URL: db.url,
      ...('url' in store ? { REDIS_URL: store.url } : { REDIS_CLUSTER_NODES: store.clusterNodes }),
      REDIS_KEY_PREFIX: prefix,
      ...env,
    };
    cleanups.push(() => Promise.all(nodes.map((n) => n.close())).then(() => undefined));
    // Together, as a cluster starts: migrations serialise on a lock, the admin bootstrap is idempotent.
    const started = await Promise.allSettled(
      Array.from({ length: REDIS_NODES }, (_, i) => startNode({ ...shared, NODE_ID: `${prefix}-${i + 1}` })),
    );
    for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    const proxy = await startRoundRobinProxy(nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    cleanups.push(() => proxy.close());
    const first = nodes[0] as TestNode;
    return { ...first, url: proxy.url, port: proxy.port, db, backend: services.backend, nodes, nodeOf: (id) => find(nodes, id), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The Redis of a 'redis' or 'redis-cluster' back-end. */
function storeOf(services: BackendServices): { url: string } | { clusterNodes: string } {
  if (services.backend === 'redis-cluster') {
    if (!services.redisClusterNodes) throw new Error("startBackend: the 'redis-cluster' back-end needs redisClusterNodes");
    return { clusterNodes: services.redisClusterNodes };
  }
  if (!services.redisUrl) throw new Error("startBackend: the 'redis' back-end needs a redisUrl");
  return { url: services.redisUrl };
}

function find(nodes: TestNode[], socketId: string): TestNode {
  const node = nodes.find((n) => holds(n, socketId));
  if (!node) throw new Error(`no node holds socket ${socketId}`);
  return node;
}
