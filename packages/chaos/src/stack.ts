import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createTestDatabase,
  startCluster,
  startNodeProcess,
  startPostgresServer,
  startRedisServer,
  type Cluster,
  type LogEntry,
  type NodeProcess,
  type PostgresServer,
  type RedisServer,
  type TestDatabase,
} from '@parley/testkit';

/** Gateway processes of a chaos run. */
export const NODES = 3;

/**
 * Everything a chaos run breaks, all its own: a PostgreSQL server, a redis-server, 3 gateway
 * processes (node-1…node-3, the test defaults, logging at info) and nginx, each on a free port.
 */
export interface ChaosStack {
  nginxUrl: string;
  postgres: PostgresServer;
  db: TestDatabase;
  redis: RedisServer;
  /** The running process of node-1…node-3 (a restarted one replaces the killed one). */
  nodes: NodeProcess[];
  /** kill -9 the node at `index`; resolves once it exited. */
  kill(index: number): Promise<void>;
  /** Start the node at `index` again, same NODE_ID and port (nginx's upstream); resolves once it listens. */
  restart(index: number): Promise<NodeProcess>;
  /** Nodes that exited without being killed by the stack (a crash: an unhandled rejection…). */
  crashes: string[];
  /** Log lines at level error or fatal, of every process so far. */
  errorLogs(): LogEntry[];
  stop(): Promise<void>;
}

export async function startChaosStack(log: (line: string) => void, logDir?: string): Promise<ChaosStack> {
  const cleanups: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const postgres = await startPostgresServer();
    cleanups.push(() => postgres.stop());
    const db = await createTestDatabase(postgres.url(), 'parley_chaos');
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    log(`postgres :${postgres.port}, redis :${redis.port}`);
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url };
    const cluster: Cluster = await startCluster(NODES, env);
    const nodes = [...cluster.nodes];
    const every: NodeProcess[] = [...nodes];
    const killed = new Set<NodeProcess>();
    const crashes: string[] = [];
    const watch = (node: NodeProcess) =>
      void node.exited.then((status) => {
        if (!killed.has(node)) crashes.push(`${node.nodeId} exited on its own: ${JSON.stringify(status)}`);
      });
    nodes.forEach(watch);
    cleanups.push(async () => {
      await cluster.nginx.stop();
      if (logDir !== undefined) {
        await mkdir(logDir, { recursive: true });
        for (const [i, node] of every.entries()) {
          await writeFile(join(logDir, `${node.nodeId}-${i}.jsonl`), node.logs.map((e) => JSON.stringify(e)).join('\n'));
        }
      }
      for (const node of every) killed.add(node);
      await Promise.all(every.map((node) => node.kill('SIGKILL')));
    });
    log(`nginx ${cluster.nginx.url} -> ${nodes.map((n) => `${n.nodeId} :${n.port}`).join(', ')}`);
    const at = (index: number) => {
      const node = nodes[index];
      if (!node) throw new Error(`no node ${index}`);
      return node;
    };
    return {
      nginxUrl: cluster.nginx.url,
      postgres,
      db,
      redis,
      nodes,
      crashes,
      kill: async (index) => {
        const node = at(index);
        killed.add(node);
        await node.kill('SIGKILL');
      },
      restart: async (index) => {
        const old = at(index);
        const node = await startNodeProcess({ ...env, NODE_ID: old.nodeId, PORT: String(old.port), MIGRATE_ON_START: 'false' });
        every.push(node);
        watch(node);
        nodes[index] = node;
        return node;
      },
      errorLogs: () => every.flatMap((node) => node.logs.filter((e) => typeof e.level === 'number' && e.level >= 50)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
