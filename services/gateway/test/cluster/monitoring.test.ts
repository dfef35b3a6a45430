import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  connectError,
  createTestDatabase,
  dashboardQueries,
  metricNames,
  nextEvent,
  postToFollower,
  registerAndConnect,
  REPO_ROOT,
  request,
  startPnpmCluster,
  startPrometheus,
  uniqueName,
  type ClientSocket,
  type PnpmCluster,
  type PrometheusServer,
  type TestDatabase,
} from '@parley/testkit';

/**
 * The monitoring path end to end: `pnpm cluster` (2 nodes) writes its targets, a real Prometheus
 * runs infra/prometheus/prometheus.cluster.yml (scraping every second instead of 15 s, so the test
 * does not wait) and scrapes both nodes through them, and every expression of the Grafana
 * dashboards evaluates in it, over the metrics of real traffic.
 */
let db: TestDatabase;
let dir: string;
let cluster: PnpmCluster;
let prometheus: PrometheusServer;
const sockets: ClientSocket[] = [];

/** Ask `check` every 200 ms until it returns true; fails naming `what` after `timeoutMs` (Prometheus announces no scrape). */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  dir = await mkdtemp(join(tmpdir(), 'parley-monitoring-'));
  const config = await readFile(join(REPO_ROOT, 'infra/prometheus/prometheus.cluster.yml'), 'utf8');
  expect(config).toMatch(/^ {2}scrape_interval: 15s$/m);
  await writeFile(join(dir, 'prometheus.yml'), config.replace(/^ {2}scrape_interval: 15s$/m, '  scrape_interval: 1s'));
  await mkdir(join(dir, 'data'));
  cluster = await startPnpmCluster(
    {
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: uniqueName('monitoring'),
      LOG_LEVEL: 'warn',
      // Where the copied configuration's file_sd (targets/*.json, beside it) finds them.
      CLUSTER_PROMETHEUS_TARGETS: join(dir, 'targets', 'pnpm-cluster.json'),
    },
    { nodes: 2 },
  );
  prometheus = await startPrometheus(join(dir, 'prometheus.yml'), join(dir, 'data'));
}, 120_000);
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await prometheus?.stop();
  await cluster?.stop();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('Prometheus over pnpm cluster', () => {
  it('scrapes every node through the targets pnpm cluster wrote, each labelled with its NODE_ID', async () => {
    type Targets = { activeTargets: { health: string; labels: Record<string, string>; scrapeUrl: string }[] };
    await until('both nodes scraped and up', async () => {
      const { activeTargets } = await prometheus.api<Targets>('targets');
      return activeTargets.length === 2 && activeTargets.every((t) => t.health === 'up');
    });
    const { activeTargets } = await prometheus.api<Targets>('targets');
    expect(activeTargets.map((t) => [t.labels.node, t.scrapeUrl]).sort()).toEqual(
      cluster.nodePorts.map((port, i) => [`node-${i + 1}`, `http://127.0.0.1:${port}/metrics`]),
    );
  });

  it('evaluates every expression of the Grafana dashboards over real traffic, and has every metric they read', async () => {
    // A chat message from node-1 to node-2, a refused handshake and a post's fan-out.
    const [one, two] = cluster.nodePorts.map((port) => `http://127.0.0.1:${port}`) as [string, string];
    const alice = await registerAndConnect(one);
    const bob = await registerAndConnect(two);
    sockets.push(alice.socket, bob.socket);
    const room = uniqueName('monitored-room');
    for (const client of [alice, bob]) await request(client.socket, 'join', { room });
    const delivered = nextEvent(bob.socket, 'message');
    await request(alice.socket, 'chatMessage', { room, text: 'scraped' });
    await delivered;
    expect((await connectError(one, '/', 'not-a-token')).data?.code).toBe('unauthorized');
    sockets.push(await postToFollower(one, alice, { content: 'monitored' }));

    const files = (await readdir(join(REPO_ROOT, 'infra/grafana'))).filter((f) => f.endsWith('.json'));
    const queries = (
      await Promise.all(files.map(async (f) => dashboardQueries(JSON.parse(await readFile(join(REPO_ROOT, 'infra/grafana', f), 'utf8')))))
    ).flat();
    const wanted = new Set(queries.flatMap(metricNames).filter((name) => name.startsWith('parley_')));
    let missing: string[] = [];
    await until('Prometheus to hold every parley_ metric of the dashboards', async () => {
      const names = new Set(await prometheus.api<string[]>('label/__name__/values'));
      missing = [...wanted].filter((name) => !names.has(name));
      return missing.length === 0;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; missing: ${missing.join(', ')}`);
    });
    // Grafana's variables, as Grafana would fill them in.
    const filled = (query: string) => query.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.*');
    for (const query of queries.filter((q) => !q.startsWith('label_values(') && q !== 'prometheus')) {
      await expect(prometheus.api('query', { query: filled(query) }), query).resolves.toBeDefined();
    }
    // A gauge as of the last scrape: the one that follows bob's connection may still be due.
    type Vector = { result: { metric: Record<string, string>; value: [number, string] }[] };
    const connections = async () =>
      (await prometheus.api<Vector>('query', { query: 'sum by (node) (parley_connections{namespace="/"})' })).result
        .map((r) => [r.metric.node, Number(r.value[1])])
        .sort();
    const expected = [
      ['node-1', 1],
      ['node-2', 1],
    ];
    await until(
      'a scrape of each node after both connected',
      async () => JSON.stringify(await connections()) === JSON.stringify(expected),
    ).catch(() => undefined);
    expect(await connections()).toEqual(expected);
  });
});
