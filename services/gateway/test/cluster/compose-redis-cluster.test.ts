import { access, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { loadConfig } from '@parley/config';
import {
  createTestDatabase,
  http,
  REPO_ROOT,
  startNode,
  startRedisClusterNode,
  startRedisServer,
  freePort,
  type RedisServer,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';
import { COMPOSE_FILE, composeEnv, composeServices, REDIS_CLUSTER_OVERRIDE, run, type ComposeService } from './compose.ts';

/** The init container's script, run here as it is in the container. */
const SCRIPT = join(REPO_ROOT, 'infra/redis-cluster/create-cluster.sh');
const INIT = 'redis-cluster-init';

describe('docker-compose.redis-cluster.yml over docker-compose.yml', () => {
  let services: Record<string, ComposeService>;
  /** The services started as cluster-mode redis-servers. */
  let nodes: string[];

  beforeAll(async () => {
    services = await composeServices([COMPOSE_FILE, REDIS_CLUSTER_OVERRIDE]);
    nodes = Object.keys(services).filter((name) => services[name]?.command?.join(' ').includes('--cluster-enabled yes'));
  });

  it('merges into a valid file; docker-compose.yml alone stays on one Redis', async () => {
    const files = ['-f', COMPOSE_FILE, '-f', REDIS_CLUSTER_OVERRIDE];
    await expect(run('docker-compose', [...files, 'config', '-q'], { cwd: REPO_ROOT, env: composeEnv })).resolves.toBeDefined();
    const single = await composeServices([COMPOSE_FILE]);
    expect(Object.keys(single)).not.toContain(INIT);
    expect(single['gateway-1']?.environment).toMatchObject({ REDIS_URL: 'redis://redis:6379' });
    expect(single['gateway-1']?.environment?.REDIS_CLUSTER_NODES).toBeUndefined();
  });

  it('6 cluster-mode Redis nodes (`redis` becomes the first), each with a health check, restarted, nodes.conf in /data', () => {
    expect(nodes).toEqual(['redis', 'redis-2', 'redis-3', 'redis-4', 'redis-5', 'redis-6']);
    for (const name of nodes) {
      const node = services[name]!;
      expect(node.image).toBe('redis:7-alpine');
      expect(node.healthcheck).toBeDefined();
      expect(node.restart).toBe('unless-stopped');
      expect(node.command?.join(' ')).toMatch(/--cluster-config-file nodes\.conf .*--dir \/data/);
      // Redis' default port, the one the gateways and the init are given.
      expect(node.command).not.toContain('--port');
    }
  });

  it('the init runs infra/redis-cluster/create-cluster.sh over exactly those nodes once they are healthy: 3 masters + 3 replicas', async () => {
    const init = services[INIT]!;
    expect(init.image).toBe('redis:7-alpine');
    expect(init.restart).toBe('no');
    // The repository's folder is mounted, and the entrypoint runs the script tested below.
    const [mount] = init.volumes ?? [];
    const [source, target, mode] = mount!.split(':') as [string, string, string];
    expect(mode).toBe('ro');
    expect(init.entrypoint?.[0]).toBe('sh');
    const script = init.entrypoint?.[1] ?? '';
    expect(script.startsWith(`${target}/`)).toBe(true);
    expect(join(source, script.slice(target.length))).toBe(SCRIPT);
    await access(SCRIPT);
    expect(init.depends_on).toEqual(Object.fromEntries(nodes.map((n) => [n, { condition: 'service_healthy' }])));
    expect(init.environment?.REDIS_CLUSTER_NODES).toBe(nodes.map((n) => `${n}:6379`).join(','));
    const replicas = Number(init.environment?.REDIS_CLUSTER_REPLICAS);
    expect(nodes.length / (1 + replicas)).toBe(3);
  });

  it('every gateway gets REDIS_CLUSTER_NODES = those nodes instead of REDIS_URL (a valid configuration) and waits for the init', () => {
    const expected = nodes.map((n) => ({ host: n, port: 6379 }));
    const gateways = Object.keys(services).filter((s) => s.startsWith('gateway-'));
    expect(gateways).toHaveLength(3);
    for (const name of [...gateways, 'migrate']) {
      const env = services[name]?.environment ?? {};
      expect(env.REDIS_CLUSTER_NODES).toBe(services[INIT]?.environment?.REDIS_CLUSTER_NODES);
      const config = loadConfig(env);
      expect(config.redis).toMatchObject({ url: undefined, clusterNodes: expected });
    }
    for (const name of gateways) expect(services[name]?.depends_on?.[INIT]).toEqual({ condition: 'service_completed_successfully' });
    // Migrations need no Redis: they do not wait for the cluster.
    expect(services.migrate?.depends_on?.[INIT]).toBeUndefined();
  });
});

/** One line of CLUSTER NODES. */
interface ClusterNodeLine {
  id: string;
  /** ip:port */
  address: string;
  role: 'master' | 'slave';
  /** The master's id, for a replica. */
  master: string;
  linkState: string;
  slots: string[];
}

async function redisCommand(server: RedisServer, ...args: string[]): Promise<string> {
  const client = new Redis(server.port, server.host, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  try {
    return String(await client.call(args[0]!, ...args.slice(1)));
  } finally {
    client.disconnect();
  }
}

async function clusterNodes(server: RedisServer): Promise<ClusterNodeLine[]> {
  return (await redisCommand(server, 'CLUSTER', 'NODES'))
    .trim()
    .split('\n')
    .map((line): ClusterNodeLine => {
      const [id, address, flags, master, , , , linkState, ...slots] = line.split(' ');
      return {
        id: id!,
        address: address!.split('@')[0]!,
        role: flags!.includes('master') ? 'master' : 'slave',
        master: master!,
        linkState: linkState!,
        slots,
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
}

/** The number of slots in CLUSTER NODES' ranges (`0-5460`, `5461`). */
function slotCount(ranges: string[]): number {
  return ranges.reduce((n, range) => {
    const [from, to = from] = range.split('-').map(Number) as [number, number?];
    return n + to - from + 1;
  }, 0);
}

/** Every node reports cluster_state:ok with all 16384 slots and knows all of them, connected. */
async function expectFormed(servers: RedisServer[]): Promise<ClusterNodeLine[]> {
  for (const server of servers) {
    const info = await redisCommand(server, 'CLUSTER', 'INFO');
    expect(info).toMatch(/cluster_state:ok/);
    expect(info).toMatch(/cluster_slots_assigned:16384\r?\n/);
    expect(info).toMatch(new RegExp(`cluster_known_nodes:${servers.length}\\r?\\n`));
    expect((await clusterNodes(server)).every((n) => n.linkState === 'connected')).toBe(true);
  }
  return clusterNodes(servers[0]!);
}

describe('infra/redis-cluster/create-cluster.sh on 6 local cluster-mode redis-servers', () => {
  const servers: RedisServer[] = [];
  let bin: string | undefined;
  let db: TestDatabase | undefined;
  let node: TestNode | undefined;
  /** What the gateways get: host:port of every node ('localhost' stands for a service name). */
  const seeds = (host = 'localhost') => servers.map((s) => `${host}:${s.port}`).join(',');

  /**
   * Run the script as the init container does (sh, the env of the compose file). Where busybox is
   * installed, its sh, sed, awk, sort, tr, date and sleep come first on PATH: the tools of the
   * redis:7-alpine image.
   */
  const createCluster = (env: Record<string, string>) =>
    run('sh', [SCRIPT], {
      env: { ...process.env, ...(bin ? { PATH: `${bin}${delimiter}${process.env.PATH}` } : {}), REDIS_CLUSTER_WAIT_SEC: '30', ...env },
      timeout: 60_000,
    });

  beforeAll(async () => {
    const busybox = await run('sh', ['-c', 'command -v busybox']).then(
      ({ stdout }) => stdout.trim(),
      () => undefined,
    );
    if (busybox) {
      bin = await mkdtemp(join(tmpdir(), 'parley-busybox-'));
      for (const tool of ['sh', 'sed', 'awk', 'sort', 'tr', 'date', 'sleep']) await symlink(busybox, join(bin, tool));
    } else {
      console.info("no busybox (scripts/ensure-services.sh installs it): create-cluster.sh runs under this machine's sh and tools");
    }
    for (let i = 0; i < 6; i++) servers.push(await startRedisClusterNode());
  });
  afterAll(async () => {
    await node?.close();
    await db?.drop();
    await Promise.all(servers.map((s) => s.stop()));
    if (bin) await rm(bin, { recursive: true, force: true });
  });

  it('creates a cluster of 3 masters, a replica each, over all 16384 slots', { timeout: 90_000 }, async () => {
    const { stdout } = await createCluster({ REDIS_CLUSTER_NODES: seeds(), REDIS_CLUSTER_REPLICAS: '1' });
    expect(stdout).toMatch(/create-cluster: creating a cluster of/);
    expect(stdout).toMatch(/create-cluster: formed over/);
    const table = await expectFormed(servers);
    const masters = table.filter((n) => n.role === 'master');
    const replicas = table.filter((n) => n.role === 'slave');
    expect(masters).toHaveLength(3);
    expect(masters.map((m) => slotCount(m.slots)).reduce((a, b) => a + b)).toBe(16384);
    expect(replicas.map((r) => r.master).sort()).toEqual(masters.map((m) => m.id).sort());
    expect(table.map((n) => n.address).sort()).toEqual(servers.map((s) => `127.0.0.1:${s.port}`).sort());
  });

  it('a second run finds it formed and changes nothing', { timeout: 60_000 }, async () => {
    const before = await clusterNodes(servers[0]!);
    const { stdout } = await createCluster({ REDIS_CLUSTER_NODES: seeds(), REDIS_CLUSTER_REPLICAS: '1' });
    expect(stdout).toMatch(/create-cluster: already formed over .*: nothing to do/);
    expect(stdout).not.toMatch(/creating|introducing/);
    const after = await expectFormed(servers);
    expect(after.map(({ id, address, role, master, slots }) => ({ id, address, role, master, slots }))).toEqual(
      before.map(({ id, address, role, master, slots }) => ({ id, address, role, master, slots })),
    );
  });

  it('a gateway given REDIS_CLUSTER_NODES of those nodes is ready', { timeout: 60_000 }, async () => {
    db = await createTestDatabase(inject('postgresUrl'));
    node = await startNode({ DATABASE_URL: db.url, REDIS_CLUSTER_NODES: seeds() });
    expect(await http(node.url, 'GET', '/readyz')).toMatchObject({ status: 200, body: { status: 'ready', checks: { redis: 'ok' } } });
    await node.close();
    node = undefined;
  });

  it(
    'every node back on a new address with its nodes.conf (a recreated container): it introduces them again',
    { timeout: 90_000 },
    async () => {
      const before = await clusterNodes(servers[0]!);
      for (const s of servers) await s.halt();
      for (const s of servers) await s.start({ host: '127.0.0.2' });
      // Each still lists the others at 127.0.0.1, where no one answers (and may say ok until the node timeout).
      const { stdout } = await createCluster({ REDIS_CLUSTER_NODES: seeds('127.0.0.2'), REDIS_CLUSTER_REPLICAS: '1' });
      expect(stdout).toMatch(/create-cluster: every node is in a cluster but it is not formed .*introducing/);
      expect(stdout).toMatch(/create-cluster: formed over/);
      const after = await expectFormed(servers);
      expect(after.map((n) => n.address).sort()).toEqual(servers.map((s) => `127.0.0.2:${s.port}`).sort());
      // The same nodes (ids) serve the same slots.
      expect(after.filter((n) => n.role === 'master').map(({ id, slots }) => ({ id, slots }))).toEqual(
        before.filter((n) => n.role === 'master').map(({ id, slots }) => ({ id, slots })),
      );
    },
  );

  it('refuses empty nodes beside a formed cluster, and leaves the cluster alone', { timeout: 60_000 }, async () => {
    const extra = await startRedisClusterNode();
    try {
      await expect(
        createCluster({ REDIS_CLUSTER_NODES: `${seeds('127.0.0.2')},127.0.0.1:${extra.port}`, REDIS_CLUSTER_REPLICAS: '1' }),
      ).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/partly formed: empty: 127\.0\.0\.1:\d+; in a cluster:/) });
      await expectFormed(servers);
      expect(await redisCommand(extra, 'CLUSTER', 'INFO')).toMatch(/cluster_known_nodes:1\r?\n/);
    } finally {
      await extra.stop();
    }
  });

  it(
    'fails (exit 1) on a node that is not in cluster mode, and on one that never answers within REDIS_CLUSTER_WAIT_SEC',
    { timeout: 60_000 },
    async () => {
      const plain = await startRedisServer();
      try {
        await expect(createCluster({ REDIS_CLUSTER_NODES: `127.0.0.1:${plain.port}` })).rejects.toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/127\.0\.0\.1:\d+ is not in cluster mode/),
        });
      } finally {
        await plain.stop();
      }
      const started = Date.now();
      await expect(
        createCluster({ REDIS_CLUSTER_NODES: `127.0.0.1:${await freePort()}`, REDIS_CLUSTER_WAIT_SEC: '1' }),
      ).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringMatching(/did not answer within 1s/),
      });
      expect(Date.now() - started).toBeLessThan(10_000);
    },
  );
});
