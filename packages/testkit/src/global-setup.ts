import type { TestProject } from 'vitest/node';
import { provideServices, startRedisCluster, type RedisCluster, type TestServices } from '@parley/devcluster';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
    /** REDIS_CLUSTER_NODES of a 3-master Redis Cluster, for the projects whose back-end is 'redis-cluster'. */
    redisClusterNodes: string;
    /** The back-end startTestBackend gives gateway tests; set per project in vitest.config.ts. */
    backend: import('./backend.ts').BackendKind;
  }
}

/**
 * Vitest runs a global setup once per project (and once for the root), all in its main
 * process: they share one set of services (one pair of containers where Docker runs), stopped
 * by the last teardown.
 */
const SHARED = Symbol.for('parley.testkit.services');
type Shared = { services: Promise<TestServices>; cluster?: Promise<RedisCluster>; users: number };

/** Once per run: find (or start) PostgreSQL and Redis and hand their URLs to every test file. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const global = globalThis as { [SHARED]?: Shared };
  const shared = (global[SHARED] ??= { services: provideServices(), users: 0 });
  shared.users += 1;
  const services = await shared.services;
  project.provide('postgresUrl', services.postgresUrl);
  project.provide('redisUrl', services.redisUrl);
  // A Redis Cluster of the machine's own redis-server, started once, for the projects that need it.
  if (project.config.provide.backend === 'redis-cluster') {
    shared.cluster ??= startRedisCluster();
    project.provide('redisClusterNodes', (await shared.cluster).nodes);
  }
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete global[SHARED];
    await Promise.all([services.stop(), shared.cluster?.then((c) => c.stop())]);
  };
}
