import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { addressesByNode, checkWebBuild, createTestDatabase, REPO_ROOT, type Cluster, type TestDatabase } from '@parley/devcluster';
import { launchChromium, type Browser } from './browser.ts';
import { uniqueName } from './client.ts';
import { startCluster } from './cluster.ts';
import { startRelay, type Relay } from './relay.ts';

/** Where the browser tests write their screenshots on every run (docs/screenshots/ keeps the README's copies). */
export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'screenshots');

/** The node ids of a web cluster, each with a relay. */
const NODE_IDS = ['node-1', 'node-2'];

export interface WebCluster {
  db: TestDatabase;
  cluster: Cluster;
  browser: Browser;
  /** Per node id ('node-1', 'node-2'): a relay whose connections nginx sends to that node (startRelay). */
  relays: Map<string, Relay>;
  /** Chromium, the relays, the nodes and nginx, the database: all gone. */
  close(): Promise<void>;
}

/**
 * What a browser test of the web app runs on: the built bundle (checked: `pnpm build`), a fresh
 * database, 2 gateway processes (node-1, node-2) over Redis with a key prefix of their own behind
 * nginx, headless Chromium, and a relay pinned to each node, so a page or a socket opened
 * through `relays.get('node-2')!.url` is served by node-2. `env` adds to the nodes' settings;
 * `CLIENT_URL` is `pnpm start`'s default, which the pages' origins are not (the app is
 * same-origin and needs no CORS). Whatever started is stopped again when a part fails.
 * @example
 * const web = await startWebCluster({ postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl') });
 * const page = await (await web.browser.newContext()).newPage();
 * await page.goto(web.relays.get('node-1')!.url);
 */
export async function startWebCluster(
  services: { postgresUrl: string; redisUrl: string },
  env: Record<string, string | undefined> = {},
): Promise<WebCluster> {
  checkWebBuild(REPO_ROOT);
  await mkdir(SCREENSHOTS, { recursive: true });
  const db = await createTestDatabase(services.postgresUrl);
  const relays = new Map<string, Relay>();
  const [cluster, browser] = await Promise.allSettled([
    startCluster(NODE_IDS.length, {
      DATABASE_URL: db.url,
      REDIS_URL: services.redisUrl,
      REDIS_KEY_PREFIX: uniqueName('web'),
      CLIENT_URL: 'http://localhost:3000',
      ...env,
    }),
    launchChromium(),
  ]);
  const close = async () => {
    if (browser.status === 'fulfilled') await browser.value.close();
    await Promise.all([...relays.values()].map((relay) => relay.close()));
    if (cluster.status === 'fulfilled') await cluster.value.stop();
    await db.drop();
  };
  try {
    if (cluster.status === 'rejected') throw cluster.reason;
    if (browser.status === 'rejected') throw browser.reason;
    const nginx = { host: '127.0.0.1', port: cluster.value.nginx.port };
    for (const [nodeId, [address]] of await addressesByNode(cluster.value.nginx.url, NODE_IDS)) {
      relays.set(nodeId, await startRelay(nginx, address!));
    }
    return { db, cluster: cluster.value, browser: browser.value, relays, close };
  } catch (err) {
    await close();
    throw err;
  }
}
