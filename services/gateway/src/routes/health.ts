import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '@parley/config';
import { contractRoute } from './contract-route.ts';

/** Liveness (process up) and readiness (every dependency answers). */
export const healthRoutes: FastifyPluginAsync<{ config: Config; checks: Record<string, () => Promise<unknown>> }> = async (
  app,
  { config, checks },
) => {
  contractRoute(app, 'healthz', async () => ({ status: 'ok' as const, nodeId: config.nodeId }));

  contractRoute(app, 'readyz', async (_request, reply) => {
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
    reply.code(ready ? 200 : 503);
    return { status: ready ? ('ready' as const) : ('unavailable' as const), nodeId: config.nodeId, checks: results };
  });
};
