import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { START_TIMEOUT_MS } from './gateway-process.ts';
import { freePort } from './ports.ts';
import { startRedisServer, type RedisServer } from './redis-server.ts';

export interface RedisCluster {
  /** `host:port` of every master, comma separated: the value of REDIS_CLUSTER_NODES. */
  nodes: string;
  servers: RedisServer[];
  /** Stop every server and delete their folders. */
  stop(): Promise<void>;
}

/** How often the cluster's state is read while it forms (it has no event to wait for). */
const STATE_POLL_MS = 100;

/** Resolves once every node reports `cluster_state:ok`; rejects after `timeoutMs`. */
async function clusterFormed(servers: RedisServer[], timeoutMs: number): Promise<void> {
  const clients = servers.map((s) => new Redis(s.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 }));
  const deadline = Date.now() + timeoutMs;
  try {
    await Promise.all(clients.map((c) => c.connect()));
    for (;;) {
      const infos = await Promise.all(clients.map((c) => c.cluster('INFO')));
      if (infos.every((info) => info.includes('cluster_state:ok'))) return;
      if (Date.now() > deadline) throw new Error(`the Redis Cluster did not form within ${timeoutMs} ms:\n${infos.join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, STATE_POLL_MS));
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
}

export interface RedisClusterOptions {
  /** @default 3 */
  masters?: number;
  /** Replicas of each master (a failover promotes one). @default 0 */
  replicas?: number;
  /** cluster-node-timeout: how long a silent master takes to be failed over. @default 5000 */
  nodeTimeoutMs?: number;
}

/**
 * One redis-server in cluster mode on a spare port (its cluster bus on another, `cluster-port`),
 * in no cluster yet: `redis-cli --cluster create` (or CLUSTER MEET) makes it a member. It keeps
 * its `nodes.conf` in its folder across `halt()` / `start()`, like a container that restarts.
 */
export async function startRedisClusterNode({
  nodeTimeoutMs = 5000,
}: Pick<RedisClusterOptions, 'nodeTimeoutMs'> = {}): Promise<RedisServer> {
  const clusterArgs = ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs)];
  return startRedisServer(freePort, [...clusterArgs, '--cluster-port', String(await freePort())]);
}

/**
 * A private Redis Cluster (no persistence) from the machine's own redis-server: `masters`
 * masters with `replicas` replicas each (`startRedisClusterNode`), the 16384 slots spread over
 * the masters by `redis-cli --cluster create`. For tests and benches that run Parley on Redis
 * Cluster (REDIS_CLUSTER_NODES).
 */
export async function startRedisCluster({
  masters = 3,
  replicas = 0,
  nodeTimeoutMs = 5000,
}: RedisClusterOptions = {}): Promise<RedisCluster> {
  const servers: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
  };
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) servers.push(await startRedisClusterNode({ nodeTimeoutMs }));
    const addresses = servers.map((s) => `127.0.0.1:${s.port}`);
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'], {
      timeout: START_TIMEOUT_MS,
    });
    await clusterFormed(servers, START_TIMEOUT_MS);
    return { nodes: addresses.join(','), servers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
