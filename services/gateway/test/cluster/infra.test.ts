import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARS } from '@parley/config';
import { REPO_ROOT } from '@parley/testkit';
import { COMPOSE_NGINX, CONNECTIONS_PER_NODE, connectionsPerNodeWithin, nginxCapacity, renderNginxConfig } from '@parley/testkit';
import { COMPOSE_FILE as composeFile, composeEnv, composeServices, run, type ComposeService } from './compose.ts';

/** What is read of a Prometheus configuration. */
interface PrometheusConfig {
  scrape_configs: { job_name: string; static_configs?: { targets: string[]; labels?: Record<string, string> }[] }[];
}

let dir: string;
let services: Record<string, ComposeService>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-compose-'));
  services = await composeServices([composeFile], ['--profile', 'loadtest']);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('docker-compose.yml', () => {
  it('is valid for docker-compose, and a broken copy is not', async () => {
    await expect(run('docker-compose', ['-f', composeFile, 'config', '-q'], { cwd: REPO_ROOT, env: composeEnv })).resolves.toBeDefined();
    const broken = join(dir, 'docker-compose.yml');
    await writeFile(broken, (await readFile(composeFile, 'utf8')).replace('services:', 'services:\n  bad: [1'));
    await expect(run('docker-compose', ['-f', broken, 'config', '-q'], { env: composeEnv })).rejects.toThrow();
  });

  it('refuses to start without JWT_SECRET (no secret is defaulted)', async () => {
    const { JWT_SECRET: _unset, ...withoutSecret } = composeEnv;
    await expect(run('docker-compose', ['-f', composeFile, 'config', '-q'], { cwd: REPO_ROOT, env: withoutSecret })).rejects.toThrow(
      /JWT_SECRET/,
    );
    expect(services['gateway-1']?.environment?.JWT_SECRET).toBe(composeEnv.JWT_SECRET);
  });

  it('has PostgreSQL, Redis, a one-shot migration, 3 gateways, nginx, a k6 loadtest profile and a monitoring profile, with health checks', () => {
    expect(Object.keys(services).sort()).toEqual([
      'gateway-1',
      'gateway-2',
      'gateway-3',
      'grafana',
      'k6',
      'migrate',
      'nginx',
      'postgres',
      'prometheus',
      'redis',
    ]);
    for (const name of ['postgres', 'redis', 'gateway-1', 'gateway-2', 'gateway-3', 'nginx'])
      expect(services[name]?.healthcheck).toBeDefined();
    // The image holds the compiled CLI only (NODE_OPTIONS=--conditions=parley-dist, set by the Dockerfile).
    expect(services.migrate?.command).toEqual(['node', 'dist/cli.js', 'migrate']);
    expect(services['gateway-1']?.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    expect(services.k6?.profiles).toEqual(['loadtest']);
  });

  it('stays in step with `pnpm cluster`: same nginx template, gateways, port and variables', async () => {
    // nginx: the mounted file is the template rendered for the compose network.
    expect(services.nginx?.volumes?.[0]).toMatch(/infra\/nginx\/nginx\.compose\.conf:\/etc\/nginx\/nginx\.conf:ro$/);
    expect(await readFile(join(REPO_ROOT, 'infra/nginx/nginx.compose.conf'), 'utf8')).toBe(renderNginxConfig(COMPOSE_NGINX));
    const gateways = Object.keys(services).filter((s) => s.startsWith('gateway-'));
    expect(COMPOSE_NGINX.upstreams).toEqual(gateways.map((g) => `${g}:${services[g]?.environment?.PORT}`));
    // `pnpm cluster` starts 3 nodes by default, like the compose file.
    expect(await readFile(join(REPO_ROOT, 'infra/cluster/cluster.ts'), 'utf8')).toMatch(/CLUSTER_NODES: .*\.default\(3\)/);
    for (const g of gateways) {
      const env = services[g]?.environment ?? {};
      expect(env.NODE_ID).toBe(g);
      // Every variable the gateways get is one the config reads (no typo is silently ignored).
      for (const name of Object.keys(env)) expect(ENV_VARS).toContain(name);
      expect(env).toMatchObject({ REDIS_URL: 'redis://redis:6379', MIGRATE_ON_START: 'false' });
    }
  });

  it('monitoring profile: Prometheus scrapes every gateway directly, Grafana shows the dashboards of infra/grafana; both local only', async () => {
    const { prometheus, grafana } = services;
    expect(prometheus?.profiles).toEqual(['monitoring']);
    expect(grafana?.profiles).toEqual(['monitoring']);
    expect(prometheus?.volumes?.[0]).toMatch(/infra\/prometheus\/prometheus\.compose\.yml:\/etc\/prometheus\/prometheus\.yml:ro$/);
    const config = parse(await readFile(join(REPO_ROOT, 'infra/prometheus/prometheus.compose.yml'), 'utf8')) as PrometheusConfig;
    const job = config.scrape_configs.find((j) => j.job_name === 'parley');
    const gateways = Object.keys(services).filter((s) => s.startsWith('gateway-'));
    expect(job?.static_configs?.map((c) => [c.targets, c.labels])).toEqual(
      gateways.map((g) => [[`${g}:${services[g]?.environment?.PORT}`], { node: g }]),
    );
    // Dashboards: every one of infra/grafana is mounted where the provisioned provider reads them.
    const dashboards = (await readdir(join(REPO_ROOT, 'infra/grafana'))).filter((f) => f.endsWith('.json'));
    for (const file of dashboards) {
      expect(grafana?.volumes).toContainEqual(
        expect.stringMatching(new RegExp(`infra/grafana/${file}:/var/lib/grafana/dashboards/${file}:ro$`)),
      );
    }
    expect(grafana?.volumes).toContainEqual(expect.stringMatching(/infra\/grafana\/provisioning:\/etc\/grafana\/provisioning:ro$/));
    const provider = parse(await readFile(join(REPO_ROOT, 'infra/grafana/provisioning/dashboards/parley.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    expect(provider.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
    const datasource = parse(await readFile(join(REPO_ROOT, 'infra/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
      datasources: { type: string; url: string; isDefault: boolean }[];
    };
    expect(datasource.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true }),
    ]);
    expect(prometheus?.ports).toEqual(['127.0.0.1:9090:9090/tcp']);
    expect(grafana?.ports).toEqual(['127.0.0.1:3030:3000/tcp']);
  });

  it.each(['prometheus.compose.yml', 'prometheus.cluster.yml'])("Prometheus' own check accepts infra/prometheus/%s", async (file) => {
    const { stdout } = await run('promtool', ['check', 'config', join(REPO_ROOT, 'infra/prometheus', file)]);
    expect(stdout).toContain('SUCCESS');
  });

  it('the Dockerfile is multi-stage, compiles in a build stage and runs the compiled gateway (no tsx) as a non-root user', async () => {
    const dockerfile = await readFile(join(REPO_ROOT, 'infra/docker/gateway.Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(3);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
    expect(dockerfile).toMatch(/^RUN pnpm install --frozen-lockfile && pnpm build$/m);
    expect(dockerfile).toMatch(/^ENV .*NODE_OPTIONS=--conditions=parley-dist/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/main\.js"\]$/m);
    expect(dockerfile).not.toMatch(/--import|src\/main\.ts/);
  });
});

/** The value of the first `name value;` directive of a rendered nginx configuration. */
function directive(conf: string, name: string): string {
  const value = new RegExp(`^\\s*${name}\\s+([^;]+);`, 'm').exec(conf)?.[1];
  if (value === undefined) throw new Error(`no ${name} directive in the rendered configuration`);
  return value;
}

describe('nginx template', () => {
  it('run unprivileged under a lower hard open-file limit, nginx is sized to fit it (setrlimit would fail)', () => {
    const perNode = connectionsPerNodeWithin(3, 20_000);
    expect(nginxCapacity(3, perNode).rlimitNofile).toBeLessThanOrEqual(20_000);
    expect(perNode).toBeGreaterThan(2_500);
    expect(connectionsPerNodeWithin(3, 1_048_576)).toBe(CONNECTIONS_PER_NODE);
  });

  it.each([1, 3])('holds 20k WebSockets per node behind it (%i nodes): connections and open files', async (nodes) => {
    const conf = renderNginxConfig({
      ...COMPOSE_NGINX,
      upstreams: Array.from({ length: nodes }, (_, i) => `127.0.0.1:${3001 + i}`),
      tempDir: dir,
      pidFile: join(dir, 'nginx.pid'),
      errorLog: join(dir, 'error.log'),
    });
    // Each proxied WebSocket holds two nginx connections (client and upstream). `auto` workers
    // count as one: without reuseport one worker may accept nearly all of them.
    const workers = directive(conf, 'worker_processes') === 'auto' ? 1 : Number(directive(conf, 'worker_processes'));
    const connections = Number(directive(conf, 'worker_connections'));
    expect(workers * connections).toBeGreaterThanOrEqual(2 * 20_000 * nodes + 1000);
    expect(Number(directive(conf, 'worker_rlimit_nofile'))).toBeGreaterThanOrEqual(connections + 100);
    const file = join(dir, `sized-${nodes}.conf`);
    await writeFile(file, conf);
    const { stderr } = await run('nginx', ['-t', '-p', dir, '-c', file]);
    expect(stderr).not.toMatch(/\[(warn|alert|emerg)\]/);
  });

  it('renders a configuration nginx accepts, with upgrade headers and sticky hashing', async () => {
    const conf = renderNginxConfig({
      upstreams: ['127.0.0.1:3001', '127.0.0.1:3002'],
      listen: '127.0.0.1:8080',
      tempDir: dir,
      pidFile: join(dir, 'nginx.pid'),
      errorLog: join(dir, 'error.log'),
    });
    expect(conf).toMatch(/hash \$remote_addr consistent;/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/server 127\.0\.0\.1:3002 max_fails=1 fail_timeout=5s;/);
    // Metrics are per node: nginx refuses /metrics in the contract's shape (pnpm-cluster.test.ts asks a running one).
    const metrics = /location = \/metrics \{[^}]*return 404 '([^']*)';/.exec(conf)?.[1];
    expect(JSON.parse(metrics ?? 'null')).toEqual({
      error: { code: 'not_found', message: expect.stringContaining('scrape each node directly') },
    });
    const file = join(dir, 'nginx.conf');
    await writeFile(file, conf);
    await expect(run('nginx', ['-t', '-p', dir, '-c', file])).resolves.toBeDefined();
  });
});
