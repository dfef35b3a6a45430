// Dev processes and services (nginx, redis-server, PostgreSQL, gateway processes, scratch databases).
export * from '@parley/devcluster';
export * from './client.ts';
export * from './node.ts';
export * from './backend.ts';
export * from './proxy.ts';
export * from './cli.ts';
export { startCluster, startNodeProcess } from './cluster.ts';
export * from './tokens.ts';
export * from './presence.ts';
export * from './k6.ts';
export * from './pnpm-cluster.ts';
export * from './browser.ts';
export * from './relay.ts';
export * from './web-cluster.ts';
export * from './metrics.ts';
export * from './prometheus.ts';
