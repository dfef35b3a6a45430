import { inject } from 'vitest';
import { startBackend, type TestBackend } from './backend.ts';

/**
 * The gateway(s) a test file runs against, on the back-end its vitest project provides
 * (`backend`: 'memory' in the `node` project, 'redis' in the `redis` project; see
 * vitest.config.ts), over a fresh database. Only for test files (reads vitest's `inject`).
 * @example node = await startTestBackend({ RATE_LIMIT_BURST: '200' });
 */
export function startTestBackend(env: Record<string, string | undefined> = {}): Promise<TestBackend> {
  return startBackend(
    {
      backend: inject('backend') ?? 'memory',
      postgresUrl: inject('postgresUrl'),
      redisUrl: inject('redisUrl'),
      redisClusterNodes: inject('redisClusterNodes'),
    },
    env,
  );
}
