import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ADDRESS_IN_USE,
  createTestDatabase,
  freePortRange,
  http,
  PortInUseError,
  REPO_ROOT,
  startOnFreePort,
  uniqueName,
  type TestDatabase,
} from '@parley/testkit';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
});
afterAll(() => db?.drop());

const refused = (url: string) =>
  fetch(url).then(
    () => false,
    () => true,
  );

/**
 * `pnpm cluster` with its nodes on `base`, `base + 1` and nginx on `base + 2`; resolves with the
 * URL it prints. Every line it prints (stdout and stderr) is added to `lines`. Rejects with
 * PortInUseError when it fails to start because one of its ports is taken.
 */
function startPnpmCluster(
  base: number,
  lines: string[],
): Promise<{ child: ChildProcess; exited: Promise<number | null>; base: number; url: string }> {
  const own: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/cluster/cluster.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CLUSTER_NODES: '2',
      CLUSTER_BASE_PORT: String(base),
      CLUSTER_NGINX_PORT: String(base + 2),
      DATABASE_URL: db.url,
      REDIS_URL: inject('redisUrl'),
      REDIS_KEY_PREFIX: uniqueName('pnpmcluster'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close', not 'exit': its last lines (why it failed) may still be in the pipes at 'exit'.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    void exited.then((code) => {
      const output = own.join('\n');
      reject(ADDRESS_IN_USE.test(output) ? new PortInUseError(base, output) : new Error(`cluster exited early (${code}): ${output}`));
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        own.push(line);
        const match = /^Parley cluster: (\S+)/.exec(line);
        if (match?.[1]) resolve({ child, exited, base, url: match[1] });
      });
    }
  });
}

describe('pnpm cluster', () => {
  it('migrates, starts N nodes behind nginx, prints the URL and stops everything on SIGTERM', async () => {
    // Nodes on base, base+1 and nginx on base+2; started again on another range if one of
    // those ports was taken between the pick and the bind.
    const lines: string[] = [];
    const { child, exited, base, url } = await startOnFreePort(
      'pnpm cluster',
      (base) => startPnpmCluster(base, lines),
      () => freePortRange(3),
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

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const port of [base, base + 1, nginxPort]) expect(await refused(`http://127.0.0.1:${port}/healthz`)).toBe(true);
  }, 90_000);
});
