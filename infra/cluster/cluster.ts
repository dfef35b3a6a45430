/**
 * `pnpm cluster`: N gateway processes (node-1…node-N on ports BASE…BASE+N-1) and nginx in
 * front of them on this machine, without Docker, over REDIS_URL / DATABASE_URL (defaults:
 * the local services), or, with CLUSTER_REDIS=cluster, over a 3-master Redis Cluster of its own.
 * Migrates first, writes the nodes' Prometheus targets (file_sd, for
 * infra/prometheus/prometheus.cluster.yml), prints the URL, stops everything on Ctrl-C / SIGTERM.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadConfig } from '@parley/config';
import { openDatabase } from '@parley/db';
import { CONNECTIONS_PER_NODE, startCluster, startRedisCluster, type Cluster, type RedisCluster } from '@parley/devcluster';

const port = z.coerce.number().int().min(1).max(65535);
const options = z
  .object({
    CLUSTER_NODES: z.coerce.number().int().min(1).max(32).default(3),
    CLUSTER_BASE_PORT: port.default(3001),
    CLUSTER_NGINX_PORT: port.default(8080),
    CLUSTER_NGINX_PER_IP: z.coerce.number().int().positive().optional(),
    DATABASE_URL: z.url().default('postgresql://postgres@127.0.0.1:5432/postgres'),
    REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
    /** 'cluster': start a private 3-master Redis Cluster (the machine's redis-server) and use it instead of REDIS_URL. */
    CLUSTER_REDIS: z.enum(['single', 'cluster']).default('single'),
    /** Where the nodes' Prometheus targets are written (file_sd); prometheus.cluster.yml reads infra/prometheus/targets/. */
    CLUSTER_PROMETHEUS_TARGETS: z.string().default(fileURLToPath(new URL('../prometheus/targets/pnpm-cluster.json', import.meta.url))),
  })
  .parse(process.env);

let cluster: Cluster | undefined;
let redisCluster: RedisCluster | undefined;
let stopping = false;

async function stop(code: number): Promise<never> {
  stopping = true;
  await cluster?.stop('SIGTERM');
  await redisCluster?.stop();
  process.exit(code);
}
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

// Validate the nodes' configuration once, and migrate once before any node starts.
if (options.CLUSTER_REDIS === 'cluster') {
  redisCluster = await startRedisCluster();
  process.stdout.write(`cluster: Redis Cluster of 3 masters: ${redisCluster.nodes}\n`);
}
const nodeEnv = {
  DATABASE_URL: options.DATABASE_URL,
  ...(redisCluster ? { REDIS_CLUSTER_NODES: redisCluster.nodes, REDIS_URL: '' } : { REDIS_URL: options.REDIS_URL }),
  MIGRATE_ON_START: 'false',
};
const config = loadConfig({ ...process.env, ...nodeEnv });
const db = await openDatabase(config.database);
const report = await db.migrate();
await db.close();
process.stdout.write(`cluster: migrations applied: ${report.applied.length}\n`);

try {
  cluster = await startCluster(options.CLUSTER_NODES, nodeEnv, {
    basePort: options.CLUSTER_BASE_PORT,
    nginxPort: options.CLUSTER_NGINX_PORT,
    nginxPerIpConnections: options.CLUSTER_NGINX_PER_IP,
    echo: true,
  });
} catch (err) {
  process.stderr.write(`cluster: failed to start: ${String(err)}\n`);
  await redisCluster?.stop();
  process.exit(1);
}
for (const node of cluster.nodes) {
  void node.exited.then((status) => {
    if (!stopping) process.stderr.write(`cluster: ${node.nodeId} exited (${status.signal ?? status.code}); the others keep running\n`);
  });
}
const upstreams = cluster.nodes.map((n) => `127.0.0.1:${n.port}`);
if (config.metrics.enabled) {
  // Prometheus scrapes every node directly (nginx refuses /metrics); written whole, then renamed, as file_sd expects.
  const file = resolve(options.CLUSTER_PROMETHEUS_TARGETS);
  const targets = cluster.nodes.map((n) => ({ targets: [`127.0.0.1:${n.port}`], labels: { node: n.nodeId } }));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(`${file}.tmp`, `${JSON.stringify(targets, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  process.stdout.write(`cluster: Prometheus targets of the nodes in ${file}\n`);
}
if (cluster.nginx.connectionsPerNode < CONNECTIONS_PER_NODE) {
  process.stderr.write(
    `cluster: nginx runs unprivileged under a lower open-file limit (ulimit -Hn): sized for ${cluster.nginx.connectionsPerNode} connections per node, not ${CONNECTIONS_PER_NODE}\n`,
  );
}
process.stdout.write(
  `\nParley cluster: http://localhost:${options.CLUSTER_NGINX_PORT} (nginx, sticky) -> ${upstreams.join(', ')}\nCtrl-C stops everything.\n`,
);
