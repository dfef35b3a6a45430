import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ParleyError } from '@parley/protocol';
import type { Metrics } from '../metrics/metrics.ts';

const digest = (value: string) => createHash('sha256').update(value).digest();

/** 401 unless the request carries `Authorization: Bearer <token>` (compared in constant time). */
function requireToken(token: string): (request: FastifyRequest) => Promise<void> {
  const expected = digest(token);
  return async (request) => {
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : '';
    if (!timingSafeEqual(digest(given), expected))
      throw new ParleyError('unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
  };
}

/**
 * `GET /metrics`: this node's metrics and its process's, in Prometheus' text format (an operator
 * route, like /openapi.json: not part of the contract's HTTP_ROUTES). Prometheus scrapes every
 * node directly (docs/METRICS.md); with METRICS_TOKEN it must send that bearer token.
 */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics; token: string | undefined }> = async (app, { metrics, token }) => {
  app.get('/metrics', { schema: { hide: true }, ...(token ? { onRequest: requireToken(token) } : {}) }, async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.exposition();
  });
};
