import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '@parley/config';

/** Liveness (process up) and readiness (every dependency answers). */
export const healthRoutes: FastifyPluginAsync<{ config: Config; checks: Record<string, () => Promise<unknown>> }> = async (
  app,
  { config, checks },
) => {
  app.get('/healthz', async () => ({ status: 'ok', nodeId: config.nodeId }));

  app.get('/readyz', async (_request, reply) => {
    const results: Record<string, 'ok' | 'down'> = {};
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await check();
          results[name] = 'ok';
        } catch {
          results[name] = 'down';
        }
      }),
    );
    const ready = Object.values(results).every((r) => r === 'ok');
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', nodeId: config.nodeId, checks: results });
  });
};
