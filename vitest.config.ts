import { configDefaults, defineConfig } from 'vitest/config';

/** Files that start node processes, nginx or their own redis-server: run after the rest, one at a time. */
const CLUSTER = ['services/gateway/test/cluster/**/*.test.ts'];
/** The web app in Debian's Chromium (playwright-core) against a 2-node cluster behind nginx: last, one at a time. */
const BROWSER = ['packages/web/test/**/*.test.ts'];
/**
 * Gateway files that run twice: in the `node` project on the in-memory back-end (one node), in
 * the `redis` project on two nodes linked through Redis (adapter, presence, notification bus),
 * the path production takes. They get their gateway(s) from testkit's startTestBackend.
 */
const BOTH_BACKENDS = [
  'rooms',
  'chat',
  'limits',
  'invalid-payloads',
  'admin',
  'handshake',
  'posts',
  'notifications',
  'history',
  'http-auth',
  'sessions',
  'private-history',
  'idempotent-send',
  'positions',
  'read-state',
  'users',
].map((name) => `services/gateway/test/${name}.test.ts`);

export default defineConfig({
  test: {
    globalSetup: ['./packages/testkit/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core CI box.
    // The files mostly wait on sockets and PostgreSQL, so two run side by side (measured with
    // the machine otherwise loaded: 147 s -> 120 s for the whole suite).
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...CLUSTER, ...BROWSER],
          provide: { backend: 'memory' },
        },
      },
      {
        // The same files again on two nodes linked through Redis. Not isolated: the files share
        // their worker's module cache (each still starts its own nodes, database and key prefix),
        // which saves importing the gateway ten more times (measured on the loaded 2-core box:
        // 80-108 s -> 29 s for the ten files).
        extends: true,
        test: { name: 'redis', include: BOTH_BACKENDS, provide: { backend: 'redis' }, isolate: false },
      },
      {
        // The same files on two nodes over a 3-master Redis Cluster (REDIS_CLUSTER_NODES): the
        // sharded adapter on each channel's shard, presence keys by hash tag, the buses, the limits.
        extends: true,
        test: { name: 'redis-cluster', include: BOTH_BACKENDS, provide: { backend: 'redis-cluster' }, isolate: false },
      },
      {
        // Each file runs 3 gateway processes (start-up is CPU-heavy; it was heavier still through
        // tsx): alongside other files on 2 cores, start-ups took over 20 s and neighbours timed out.
        extends: true,
        test: { name: 'cluster', include: CLUSTER, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
      {
        // Chromium and two gateway processes: after the cluster files, so neither slows the other down.
        extends: true,
        test: { name: 'browser', include: BROWSER, fileParallelism: false, sequence: { groupOrder: 2 } },
      },
    ],
  },
});
