import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ERRORS, EVENT_NAMES, NAMESPACES } from '@parley/protocol';
import {
  connect,
  connectError,
  dashboardQueries,
  http,
  metricNames,
  nextEvent,
  postToFollower,
  registerAndConnect,
  registerUser,
  REPO_ROOT,
  request,
  scrapeMetrics,
  startBackend,
  startNodeWithDatabase,
  uniqueName,
  type Client,
  type ClientSocket,
  type Scrape,
  type TestBackend,
  type TestNode,
} from '@parley/testkit';

/**
 * GET /metrics on two nodes linked through Redis (whatever the vitest project: the Redis adapter's
 * traffic and cross-node deliveries need two), after real traffic: a chat message from one node to
 * the other, refusals over every transport, a post's fan-out. Clients connect to a node directly.
 */

/** `promtool args` (Prometheus' own tool) with `input` on its standard input: its exit code and output. */
function promtool(args: string[], input: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', args, { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      if (typeof code !== 'number') reject(err ?? new Error('promtool did not exit'));
      else resolve({ code, output: `${stdout}${stderr}` });
    });
    child.stdin?.end(input);
  });
}

/** Every metric of the catalog (docs/METRICS.md), with its type. */
const CATALOG: Record<string, string> = {
  parley_node_info: 'gauge',
  parley_clients: 'gauge',
  parley_connections: 'gauge',
  parley_rooms: 'gauge',
  parley_events_received_total: 'counter',
  parley_deliveries_total: 'counter',
  parley_ack_latency_seconds: 'histogram',
  parley_delivery_latency_seconds: 'histogram',
  parley_db_batch_size: 'histogram',
  parley_db_batch_duration_seconds: 'histogram',
  parley_db_queue_pending: 'gauge',
  parley_redis_adapter_messages_total: 'counter',
  parley_redis_adapter_publish_errors_total: 'counter',
  parley_presence_operations_total: 'counter',
  parley_fanout_jobs_total: 'counter',
  parley_fanout_jobs_active: 'gauge',
  parley_fanout_notifications_total: 'counter',
  parley_errors_total: 'counter',
};

/** Each label a parley_ metric may carry, and the values it may take (undefined: checked elsewhere). */
const allEvents = Object.values(EVENT_NAMES).flatMap((n) => [...n.clientToServer, ...n.serverToClient]);
const LABELS: Record<string, readonly string[] | undefined> = {
  namespace: Object.values(NAMESPACES),
  event: [...allEvents, 'unknown'],
  code: [...Object.keys(ERRORS), 'unknown'],
  transport: ['http', 'socket', 'handshake', 'polling', 'websocket'],
  outcome: ['ok', 'error', 'done', 'failed'],
  queue: ['messages', 'user_lookups'],
  direction: ['published', 'received'],
  op: ['join', 'leave', 'users', 'flush', 'stats', 'list_rooms', 'withdraw'],
  kind: ['chat', 'reserved'],
  le: undefined,
  node_id: undefined,
};

let backend: TestBackend;
let nodeA: TestNode;
let nodeB: TestNode;
/** On node A and node B respectively, in `room`. */
let alice: Client;
let bob: Client;
const room = uniqueName('metrics-room');
const sockets: ClientSocket[] = [];

/** Both nodes' metrics now. */
const scrapeBoth = () => Promise.all([scrapeMetrics(nodeA.url), scrapeMetrics(nodeB.url)]);
/** How much `name` (with `labels`) grew from `before` to `after`. */
const grew = (before: Scrape, after: Scrape, name: string, labels: Record<string, string> = {}) =>
  after.value(name, labels) - before.value(name, labels);

beforeAll(async () => {
  backend = await startBackend(
    { backend: 'redis', postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl') },
    // A small send bucket (3, then 1/s) and 2 login attempts per username: refusals on demand.
    { RATE_LIMIT_PER_SEC: '1', RATE_LIMIT_BURST: '3', AUTH_RATE_LIMIT_PER_USERNAME: '2' },
  );
  [nodeA, nodeB] = backend.nodes as [TestNode, TestNode];
  alice = await registerAndConnect(nodeA.url);
  bob = await registerAndConnect(nodeB.url);
  sockets.push(alice.socket, bob.socket);
  for (const client of [alice, bob]) await request(client.socket, 'join', { room });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await backend?.close();
});

describe('GET /metrics', () => {
  it('serves each node its own metrics and its process metrics in the text format, which promtool reads and finds no fault with', async () => {
    for (const node of [nodeA, nodeB]) {
      const scrape = await scrapeMetrics(node.url);
      for (const [name, type] of Object.entries(CATALOG)) expect(scrape.types.get(name), name).toBe(type);
      expect(scrape.value('parley_node_info', { node_id: node.config.nodeId })).toBe(1);
      for (const name of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_heap_size_used_bytes',
      ])
        expect(scrape.types.has(name), name).toBe(true);
      // promtool's exit code 3 is "lint problems": prom-client's own nodejs_active_*_total gauges have some; Parley's none.
      const { code, output } = await promtool(['check', 'metrics'], scrape.text);
      expect([0, 3], output).toContain(code);
      expect(output).not.toMatch(/error while linting|^parley_/m);
    }
  });

  it('counts a chat message: events in and ack latency on the sender node, batch and publish there, receipt, delivery and its latency on the other', async () => {
    const [a0, b0] = await scrapeBoth();
    const delivered = nextEvent<{ text: string }>(bob.socket, 'message');
    await request(alice.socket, 'chatMessage', { room, text: 'measured' });
    expect((await delivered).text).toBe('measured');
    const [a1, b1] = await scrapeBoth();
    const chat = { namespace: '/', event: 'chatMessage' };
    expect(grew(a0, a1, 'parley_events_received_total', chat)).toBe(1);
    expect(grew(a0, a1, 'parley_ack_latency_seconds_count', { ...chat, outcome: 'ok' })).toBe(1);
    expect(grew(a0, a1, 'parley_ack_latency_seconds_bucket', { ...chat, outcome: 'ok', le: '+Inf' })).toBe(1);
    expect(grew(a0, a1, 'parley_db_batch_size_sum', { queue: 'messages' })).toBe(1);
    expect(grew(a0, a1, 'parley_redis_adapter_messages_total', { direction: 'published' })).toBeGreaterThanOrEqual(1);
    // Alice's own copy on A (a direct emit); Bob's on B (the broadcast, counted by its one local recipient).
    expect(grew(a0, a1, 'parley_deliveries_total', { namespace: '/', event: 'message' })).toBe(1);
    expect(grew(b0, b1, 'parley_deliveries_total', { namespace: '/', event: 'message' })).toBe(1);
    expect(grew(b0, b1, 'parley_redis_adapter_messages_total', { direction: 'received' })).toBeGreaterThanOrEqual(1);
    expect(grew(b0, b1, 'parley_delivery_latency_seconds_count', { event: 'message' })).toBe(1);
    expect(grew(b0, b1, 'parley_events_received_total')).toBe(0);
  });

  it('counts a broadcast by its local recipients: three sockets of one room on a node, one of them the sender', async () => {
    const carol = await registerAndConnect(nodeB.url);
    const bobAgain = await connect(nodeB.url, '/', bob.token);
    sockets.push(carol.socket, bobAgain);
    for (const socket of [carol.socket, bobAgain]) await request(socket, 'join', { room });
    const [, b0] = await scrapeBoth();
    const seen = [alice.socket, bob.socket, bobAgain].map((s) => nextEvent(s, 'typing'));
    carol.socket.emit('typing', { room });
    await Promise.all(seen);
    const [, b1] = await scrapeBoth();
    // socket.to(room) from Carol: Bob's two sockets here (Carol excluded); Alice's is on A.
    expect(grew(b0, b1, 'parley_deliveries_total', { namespace: '/', event: 'typing' })).toBe(2);
    expect(grew(b0, b1, 'parley_events_received_total', { namespace: '/', event: 'typing' })).toBe(1);
  });

  it('gauges sockets by namespace and transport, Engine.IO clients and rooms (not the sockets’ own)', async () => {
    const before = await scrapeMetrics(nodeA.url);
    const dave = await registerUser(nodeA.url);
    const polling = await connect(nodeA.url, '/', dave.token, { transports: ['polling'] });
    const notifications = await connect(nodeA.url, '/notifications', dave.token, { transports: ['polling'] });
    sockets.push(polling, notifications);
    const otherRoom = uniqueName('metrics-other');
    await request(polling, 'join', { room: otherRoom });
    const after = await scrapeMetrics(nodeA.url);
    const main = nodeA.app.io.of('/');
    expect(after.value('parley_connections', { namespace: '/' })).toBe(main.sockets.size);
    expect(grew(before, after, 'parley_connections', { namespace: '/', transport: 'polling' })).toBe(1);
    expect(grew(before, after, 'parley_connections', { namespace: '/notifications', transport: 'polling' })).toBe(1);
    // Two Engine.IO connections (the test client opens one per socket).
    expect(grew(before, after, 'parley_clients')).toBe(2);
    expect(grew(before, after, 'parley_rooms', { namespace: '/', kind: 'chat' })).toBe(1);
    // user:<id> rooms: Dave's on '/' and on '/notifications' are new on this node.
    expect(grew(before, after, 'parley_rooms', { namespace: '/notifications', kind: 'reserved' })).toBe(1);
    expect(after.value('parley_rooms')).toBeLessThan([...main.adapter.rooms.keys()].length);
    expect(grew(before, after, 'parley_presence_operations_total', { op: 'join', outcome: 'ok' })).toBe(1);
  });

  it('counts refusals by stable code: a rate-limited event and request, an error event, a refused handshake, an unknown route', async () => {
    const [a0] = await scrapeBoth();
    // The send bucket holds 3: at most a few more sends until one is refused.
    let limited = 0;
    for (let i = 0; i < 10 && limited === 0; i++) {
      const ack = await request<{ ok: boolean; error?: { code: string } }>(alice.socket, 'message', { n: i });
      if (!ack.ok) {
        expect(ack.error?.code).toBe('rate_limited');
        limited++;
      }
    }
    expect(limited).toBe(1);
    const error = nextEvent<{ code: string }>(alice.socket, 'error');
    alice.socket.emit('joinRoom', 42);
    expect((await error).code).toBe('invalid_payload');
    const refused = await connectError(nodeA.url, '/', 'not-a-token');
    expect(refused.data?.code).toBe('unauthorized');
    const wrong = { username: alice.user.username, password: 'wrong password' };
    const logins = [];
    for (let i = 0; i < 3; i++) logins.push((await http(nodeA.url, 'POST', '/auth/login', { body: wrong })).status);
    expect(logins).toEqual([401, 401, 429]);
    expect((await http(nodeA.url, 'GET', '/no-such-route')).status).toBe(404);
    const [a1] = await scrapeBoth();
    const errors = (transport: string, code: string) => grew(a0, a1, 'parley_errors_total', { transport, code });
    expect(errors('socket', 'rate_limited')).toBe(1);
    expect(grew(a0, a1, 'parley_ack_latency_seconds_count', { event: 'message', outcome: 'error' })).toBe(1);
    expect(errors('socket', 'invalid_payload')).toBe(1);
    expect(errors('handshake', 'unauthorized')).toBe(1);
    expect(errors('http', 'invalid_credentials')).toBe(2);
    expect(errors('http', 'rate_limited')).toBe(1);
    expect(errors('http', 'not_found')).toBe(1);
  });

  it("counts an event outside the contract as 'unknown'", async () => {
    const before = await scrapeMetrics(nodeA.url);
    alice.socket.emit(`made-up-${uniqueName()}`, { room });
    // Events are handled in order: the ack of the next one comes after the first was counted.
    await request(alice.socket, 'sync', { room, sinceId: 0 });
    const after = await scrapeMetrics(nodeA.url);
    expect(grew(before, after, 'parley_events_received_total', { namespace: '/', event: 'unknown' })).toBe(1);
  });

  it("counts a post's fan-out: the job, its notifications, and the user look-ups of handshakes", async () => {
    const before = await scrapeMetrics(nodeA.url);
    sockets.push(await postToFollower(nodeA.url, alice, { content: 'metrics' }));
    await nodeA.app.fanout.idle();
    const after = await scrapeMetrics(nodeA.url);
    expect(grew(before, after, 'parley_fanout_jobs_total', { outcome: 'done' })).toBe(1);
    expect(grew(before, after, 'parley_fanout_notifications_total')).toBe(1);
    expect(after.value('parley_fanout_jobs_active')).toBe(0);
    expect(grew(before, after, 'parley_db_batch_size_count', { queue: 'user_lookups' })).toBeGreaterThanOrEqual(1);
  });

  it('keeps labels bounded: no room name, user name or id, or socket id, only the values of fixed sets', async () => {
    const names = [room, alice.user.username, bob.user.username, alice.socket.id ?? '', bob.socket.id ?? ''];
    const ids = [String(alice.user.id), String(bob.user.id)];
    for (const scrape of await scrapeBoth()) {
      for (const name of names) expect(scrape.text.includes(name), name).toBe(false);
      for (const sample of scrape.samples.filter((s) => s.name.startsWith('parley_'))) {
        for (const [label, value] of Object.entries(sample.labels)) {
          expect(Object.keys(LABELS), `${sample.name}: label ${label}`).toContain(label);
          // Bucket bounds are numbers too.
          if (label !== 'le') expect(ids, `${sample.name}{${label}="${value}"}`).not.toContain(value);
          const allowed = LABELS[label];
          if (allowed) expect(allowed, `${sample.name}{${label}}`).toContain(value);
        }
      }
    }
  });

  it('serves every metric the Grafana dashboards in infra/grafana use', async () => {
    const dir = join(REPO_ROOT, 'infra/grafana');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const scrapes = await scrapeBoth();
    const sampled = new Set(scrapes.flatMap((s) => s.samples.map((sample) => sample.name)));
    const families = new Map(scrapes.flatMap((s) => [...s.types]));
    for (const file of files) {
      const dashboard = JSON.parse(await readFile(join(dir, file), 'utf8')) as unknown;
      const names = new Set(dashboardQueries(dashboard).flatMap(metricNames));
      expect(names.size, file).toBeGreaterThan(20);
      for (const name of names) {
        const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
        expect(families.has(family), `${file}: ${name} is not served`).toBe(true);
        if (family !== name) expect(families.get(family), `${file}: ${name}`).toBe('histogram');
        // Parley's own have samples after the traffic above (the process's GC histogram may have none yet).
        if (name.startsWith('parley_'))
          expect(sampled.has(name) || sampled.has(`${name}_count`), `${file}: ${name} has no sample`).toBe(true);
      }
    }
  });
});

describe('METRICS_TOKEN and METRICS_ENABLED', () => {
  const token = `metrics-${uniqueName()}-${uniqueName()}`;
  let guarded: TestNode & { close(): Promise<void> };
  let disabled: TestNode & { close(): Promise<void> };
  beforeAll(async () => {
    [guarded, disabled] = await Promise.all([
      startNodeWithDatabase(inject('postgresUrl'), { METRICS_TOKEN: token }),
      startNodeWithDatabase(inject('postgresUrl'), { METRICS_ENABLED: 'false' }),
    ]);
  });
  afterAll(async () => {
    await guarded?.close();
    await disabled?.close();
  });

  it('with a token, /metrics answers 401 unauthorized without it or with another, and the metrics with it', async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${token}x` }, { authorization: token }];
    for (const headers of attempts) {
      const res = await http<{ error: { code: string } }>(guarded.url, 'GET', '/metrics', { headers });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
    }
    const scrape = await scrapeMetrics(guarded.url, token);
    expect(scrape.value('parley_errors_total', { transport: 'http', code: 'unauthorized' })).toBe(3);
    expect((await http(guarded.url, 'GET', '/healthz')).status).toBe(200);
  });

  it('disabled: no /metrics (404 not_found), nothing counted, and the node works as before', async () => {
    const res = await http<{ error: { code: string } }>(disabled.url, 'GET', '/metrics');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect(disabled.app.metrics).toBeNull();
    const [erin, frank] = await Promise.all([registerAndConnect(disabled.url), registerAndConnect(disabled.url)]);
    try {
      for (const client of [erin, frank]) await request(client.socket, 'join', { room });
      const got = nextEvent<{ text: string }>(frank.socket, 'message');
      await request(erin.socket, 'chatMessage', { room, text: 'unmeasured' });
      expect((await got).text).toBe('unmeasured');
    } finally {
      erin.socket.close();
      frank.socket.close();
    }
  });
});
