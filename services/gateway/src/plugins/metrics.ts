import fp from 'fastify-plugin';
import type { Config } from '@parley/config';
import { Metrics } from '../metrics/metrics.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** This node's Prometheus metrics (GET /metrics); null when METRICS_ENABLED=false (nothing is counted). */
    metrics: Metrics | null;
  }
}

/**
 * This node's metrics registry, first of the plugins: the others instrument what they open with
 * it (the batching queues, Socket.IO, presence, the Redis adapter, fan-out). routes/metrics.ts
 * serves it.
 */
export const metricsPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    app.decorate('metrics', config.metrics.enabled ? new Metrics(config.nodeId) : null);
  },
  { name: 'metrics' },
);
