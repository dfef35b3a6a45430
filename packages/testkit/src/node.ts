import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { loadConfig, type Config } from '@parley/config';
import { buildApp } from '@parley/gateway';
import { EVENT_TIMEOUT_MS } from './client.ts';
import { createTestDatabase, LogTail, type LogEntry, type TestDatabase } from '@parley/devcluster';

/** The JWT secret every test node shares (a cluster needs one secret). */
export const TEST_JWT_SECRET = 'parley-test-secret-0123456789abcdef';

export interface TestNode {
  url: string;
  port: number;
  app: FastifyInstance;
  config: Readonly<Config>;
  /** Every log line at or above LOG_LEVEL (silent unless the test sets it) so far. */
  logs: LogEntry[];
  /** See `LogTail.next`: the next log line matching `predicate`, bounded. */
  nextLog(what: string, predicate: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  close(): Promise<void>;
}

/** Environment for a node under test: ephemeral port, cheap scrypt, quiet logs. */
export function testEnv(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    SCRYPT_COST: '1024',
    // Every test client comes from 127.0.0.1: per-address and per-username limits would count a
    // whole suite as one client. The tests of those limits set their own.
    HTTP_RATE_LIMIT_PER_MIN: '1000000',
    AUTH_RATE_LIMIT_PER_IP: '1000000',
    AUTH_RATE_LIMIT_PER_USERNAME: '1000000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    CLIENT_URL: '*',
    ...env,
  };
}

/** Build and start one Parley node in this process on an ephemeral port. */
export async function startNode(env: Record<string, string | undefined>): Promise<TestNode> {
  const config = loadConfig(testEnv(env));
  const tail = new LogTail(config.nodeId);
  // Kept for nextLog; also printed when TEST_LOG_LEVEL asks for logs.
  const destination = {
    write(line: string) {
      tail.push(JSON.parse(line) as LogEntry);
      if (process.env.TEST_LOG_LEVEL) process.stdout.write(line);
    },
  };
  const app = await buildApp(config, pino({ level: config.log.level, base: { nodeId: config.nodeId } }, destination));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    app,
    config,
    logs: tail.entries,
    nextLog: (what, predicate, timeoutMs) => tail.next(what, predicate, timeoutMs),
    close: () => app.close(),
  };
}

export interface TestNodeWithDatabase extends TestNode {
  db: TestDatabase;
}

/** A node over a fresh database on `postgresUrl`; `close()` stops the node and drops the database. */
export async function startNodeWithDatabase(
  postgresUrl: string,
  env: Record<string, string | undefined> = {},
): Promise<TestNodeWithDatabase> {
  const db = await createTestDatabase(postgresUrl);
  try {
    const node = await startNode({ DATABASE_URL: db.url, ...env });
    return {
      ...node,
      db,
      close: async () => {
        await node.close();
        await db.drop();
      },
    };
  } catch (err) {
    await db.drop();
    throw err;
  }
}

/**
 * Resolves when the server has processed the disconnect of the socket with `socketId` on
 * `namespace`, on whichever of the nodes (`target.nodes`, or `target` alone) holds it; rejects
 * after EVENT_TIMEOUT_MS.
 */
export function serverDisconnect(target: TestNode | { nodes: TestNode[] }, socketId: string, namespace = '/'): Promise<void> {
  const nodes = 'nodes' in target ? target.nodes : [target];
  const socket = nodes.map((node) => node.app.io.of(namespace).sockets.get(socketId)).find((s) => s !== undefined);
  if (!socket) return Promise.resolve();
  const timeout = new Error(`timed out waiting for the server to see ${socketId} disconnect`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout), EVENT_TIMEOUT_MS);
    socket.once('disconnect', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
