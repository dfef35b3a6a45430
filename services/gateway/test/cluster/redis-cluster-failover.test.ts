import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { ParleyClient } from '@parley/client';
import { presenceKeys } from '@parley/gateway/presence-keys';
import {
  createTestDatabase,
  registerUser,
  startNode,
  startRedisCluster,
  uniqueName,
  within,
  type RedisCluster,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

// Two nodes on a Redis Cluster of 3 masters with a replica each. A master dies; its replica is
// promoted (cluster-node-timeout 2 s); chat across the nodes carries on.
let db: TestDatabase;
let cluster: RedisCluster;
let nodes: TestNode[];
const clients: ParleyClient[] = [];

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  cluster = await startRedisCluster({ masters: 3, replicas: 1, nodeTimeoutMs: 2000 });
  const env = { DATABASE_URL: db.url, REDIS_CLUSTER_NODES: cluster.nodes, LOG_LEVEL: 'info' };
  nodes = [await startNode({ ...env, NODE_ID: 'f-1' }), await startNode({ ...env, NODE_ID: 'f-2', MIGRATE_ON_START: 'false' })];
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const n of nodes ?? []) await n.close();
  await cluster?.stop();
  await db?.drop();
});

/** The port of the master that serves `key` (the worst one to lose: the room's own shard). */
async function masterOf(key: string): Promise<number> {
  const client = new Redis(cluster.servers[0]!.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    const slot = await client.cluster('KEYSLOT', key);
    const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)!;
    return range[2][1];
  } finally {
    client.disconnect();
  }
}

describe('a Redis Cluster failover', () => {
  it('chat across nodes carries on once a replica replaces a dead master; what was acked arrives once', { timeout: 90_000 }, async () => {
    const [n1, n2] = nodes as [TestNode, TestNode];
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(n1.url), registerUser(n2.url)]);
    const reader = new ParleyClient({ url: n1.url, token: a.token, socket: { transports: ['websocket'] } });
    const writer = new ParleyClient({ url: n2.url, token: b.token, socket: { transports: ['websocket'] }, sendTimeoutMs: 30_000 });
    clients.push(reader, writer);
    const got: string[] = [];
    reader.onMessage((m) => got.push(m.text));
    await Promise.all([reader.connected(), writer.connected()]);
    await reader.join(room);
    await writer.join(room);
    const before = within(
      '"before" across nodes',
      new Promise<void>((resolve) => reader.onMessage((m) => m.text === 'before' && resolve())),
    );
    await writer.send(room, 'before');
    await before;

    const port = await masterOf(presenceKeys(n1.config.redis.keyPrefix).room(room, n1.config.nodeId).keys[0]!);
    const master = cluster.servers.find((s) => s.port === port)!;
    await master.halt();
    // Sent through the failover: each is stored once (clientId) and reaches the reader, live or by resync.
    const texts = Array.from({ length: 5 }, (_, i) => `during ${i}`);
    const arrived = within(
      'every message sent through the failover',
      new Promise<void>((resolve) => reader.onMessage(() => texts.every((t) => got.includes(t)) && resolve())),
      30_000,
    );
    for (const text of texts) await writer.send(room, text);
    await arrived;
    expect(got.filter((t) => texts.includes(t))).toEqual(texts);
    expect(new Set(got).size).toBe(got.length);
  });
});
