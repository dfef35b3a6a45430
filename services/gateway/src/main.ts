import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, type Config } from '@parley/config';
import { buildApp } from './app.ts';
import { createLogger } from './logger.ts';

let config: Readonly<Config>;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
const log = createLogger(config);
const app = await buildApp(config, log).catch((err: unknown) => {
  // The database unreachable, the admin name taken by another account…: say why, exit non-zero.
  log.fatal({ err }, 'failed to start');
  process.exit(1);
});

let closing = false;
async function shutdown(signal: string): Promise<void> {
  if (closing) return;
  closing = true;
  log.info({ signal }, 'shutting down');
  const timer = setTimeout(() => {
    log.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out, exiting');
    process.exit(1);
  }, config.shutdownTimeoutMs);
  timer.unref();
  try {
    await app.close();
    log.info('shut down cleanly');
    process.exit(0);
  } catch (err) {
    log.error({ err }, 'shutdown failed');
    process.exit(1);
  }
}
process.once('SIGTERM', () => void shutdown('SIGTERM'));
process.once('SIGINT', () => void shutdown('SIGINT'));

try {
  await app.listen({ port: config.port, host: config.host });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://localhost:${port}`;
  log.info({ url, database: app.db.kind, redis: Boolean(config.redis.url) }, `Parley is listening on ${url}`);
  // A parent that started this node with an IPC channel (@parley/devcluster) learns its port
  // whatever the log level or format.
  process.send?.({ type: 'listening', port });
} catch (err) {
  log.fatal({ err }, 'failed to start');
  await app.close().catch(() => {});
  process.exit(1);
}
