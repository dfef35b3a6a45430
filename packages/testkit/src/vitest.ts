import { afterAll, beforeAll, inject } from 'vitest';
import { startBackend, type TestBackend } from './backend.ts';
import { connect, registerAndConnect, type Client, type ClientSocket } from './client.ts';

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

/** What `useAliceAndBob` sets up before the file's tests (read in tests, not at import). */
export interface AliceAndBob {
  node: TestBackend;
  alice: Client;
  bob: Client;
  /** A second socket of alice's: in Redis mode on the other node (round robin), as after a reconnection elsewhere. */
  aliceAgain: ClientSocket;
}

/**
 * A backend (startTestBackend(env)) with two connected users, alice with a second socket,
 * started in beforeAll and closed in afterAll.
 * @example const the = useAliceAndBob({ RATE_LIMIT_BURST: '200' }); … the.alice.socket
 */
export function useAliceAndBob(env: Record<string, string | undefined> = {}): AliceAndBob {
  const the = {} as AliceAndBob;
  beforeAll(async () => {
    the.node = await startTestBackend(env);
    [the.alice, the.bob] = await Promise.all([registerAndConnect(the.node.url), registerAndConnect(the.node.url)]);
    the.aliceAgain = await connect(the.node.url, '/', the.alice.token);
  });
  afterAll(async () => {
    for (const s of [the.alice?.socket, the.bob?.socket, the.aliceAgain]) s?.close();
    await the.node?.close();
  });
  return the;
}
