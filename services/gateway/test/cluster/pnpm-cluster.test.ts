import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, freePortRange, http, REPO_ROOT, uniqueName, type TestDatabase } from '@parley/testkit';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
});
afterAll(() => db?.drop());

const refused = (url: string) => fetch(url).then(() => false, () => true);

describe('pnpm cluster', () => {
  it('migrates, starts N nodes behind nginx, prints the URL and stops everything on SIGTERM', async () => {
    // Nodes on base, base+1 and nginx on base+2.
    const base = await freePortRange(3);
    const nginxPort = base + 2;
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/cluster/cluster.ts'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        CLUSTER_NODES: '2',
        CLUSTER_BASE_PORT: String(base),
        CLUSTER_NGINX_PORT: String(nginxPort),
        DATABASE_URL: db.url,
        REDIS_URL: inject('redisUrl'),
        REDIS_KEY_PREFIX: uniqueName('pnpmcluster'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines: string[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      void exited.then((code) => reject(new Error(`cluster exited early (${code}): ${lines.join('\n')}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        const match = /^Parley cluster: (\S+)/.exec(line);
        if (match?.[1]) resolve(match[1]);
      });
    });
    expect(url).toBe(`http://localhost:${nginxPort}`);
    // A fresh database: every migration is applied, before any node starts.
    expect(lines.find((l) => l.startsWith('cluster: migrations applied:'))).toMatch(/applied: [1-9]\d*$/);
    const seen = new Set<string>();
    for (const port of [base, base + 1]) {
      seen.add((await http<{ nodeId: string }>(`http://127.0.0.1:${port}`, 'GET', '/healthz')).body.nodeId);
    }
    expect([...seen].sort()).toEqual(['node-1', 'node-2']);
    expect((await http(`http://127.0.0.1:${nginxPort}`, 'GET', '/readyz')).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const port of [base, base + 1, nginxPort]) expect(await refused(`http://127.0.0.1:${port}/healthz`)).toBe(true);
  }, 90_000);
});
