import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, http, scrapeMetrics, startPnpmCluster, uniqueName, type TestDatabase } from '@parley/testkit';

let db: TestDatabase;
let dir: string;
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  dir = await mkdtemp(join(tmpdir(), 'parley-pnpm-cluster-'));
});
afterAll(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

const refused = (url: string) =>
  fetch(url).then(
    () => false,
    () => true,
  );

describe('pnpm cluster', () => {
  it('migrates, starts N nodes behind nginx, writes their Prometheus targets, prints the URL and stops everything on SIGTERM', async () => {
    // Nodes on base, base+1 and nginx on base+2; started again on another range if one of
    // those ports was taken between the pick and the bind.
    const lines: string[] = [];
    const targetsFile = join(dir, 'targets', 'pnpm-cluster.json');
    const { child, exited, base, url } = await startPnpmCluster(
      {
        DATABASE_URL: db.url,
        REDIS_URL: inject('redisUrl'),
        REDIS_KEY_PREFIX: uniqueName('pnpmcluster'),
        LOG_LEVEL: 'warn',
        CLUSTER_PROMETHEUS_TARGETS: targetsFile,
      },
      { nodes: 2, lines },
    );
    const nginxPort = base + 2;
    expect(url).toBe(`http://localhost:${nginxPort}`);
    // A fresh database: every migration is applied, before any node starts (by the first
    // attempt, if there were several).
    expect(lines.find((l) => l.startsWith('cluster: migrations applied:'))).toMatch(/applied: [1-9]\d*$/);
    const seen = new Set<string>();
    for (const port of [base, base + 1]) {
      seen.add((await http<{ nodeId: string }>(`http://127.0.0.1:${port}`, 'GET', '/healthz')).body.nodeId);
    }
    expect([...seen].sort()).toEqual(['node-1', 'node-2']);
    expect((await http(`http://127.0.0.1:${nginxPort}`, 'GET', '/readyz')).status).toBe(200);
    // The web app, built by `pnpm build`, through nginx.
    const page = await fetch(`http://127.0.0.1:${nginxPort}/`, { signal: AbortSignal.timeout(10_000) });
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await page.text()).toContain('<title>Parley</title>');

    // Metrics: Prometheus' targets are the nodes themselves (file_sd), each serves its own; nginx refuses /metrics.
    expect(JSON.parse(await readFile(targetsFile, 'utf8'))).toEqual([
      { targets: [`127.0.0.1:${base}`], labels: { node: 'node-1' } },
      { targets: [`127.0.0.1:${base + 1}`], labels: { node: 'node-2' } },
    ]);
    for (const [i, port] of [base, base + 1].entries()) {
      expect((await scrapeMetrics(`http://127.0.0.1:${port}`)).value('parley_node_info', { node_id: `node-${i + 1}` })).toBe(1);
    }
    const viaNginx = await http<{ error: { code: string; message: string } }>(`http://127.0.0.1:${nginxPort}`, 'GET', '/metrics');
    expect(viaNginx.status).toBe(404);
    expect(viaNginx.body.error).toEqual({ code: 'not_found', message: expect.stringContaining('scrape each node directly') });

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const port of [base, base + 1, nginxPort]) expect(await refused(`http://127.0.0.1:${port}/healthz`)).toBe(true);
  }, 90_000);
});
