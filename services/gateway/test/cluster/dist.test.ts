import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  connect,
  createTestDatabase,
  DIST_CONDITION,
  GATEWAY_MAIN,
  nextEvent,
  REPO_ROOT,
  registerUser,
  request,
  startGatewayProcess,
  testEnv,
  uniqueName,
  type ClientSocket,
  type NodeProcess,
  type TestDatabase,
} from '@parley/testkit';

// What production runs: the compiled gateway and CLI (`pnpm build` → dist/), with @parley/*
// resolved to their dist/ through the parley-dist export condition, as `pnpm start`, `pnpm cluster`
// and the image (whose compose file migrates with `node dist/cli.js migrate`) run them. Every
// other test that starts node processes (startGatewayProcess) runs the same files.
const run = promisify(execFile);
const CLI = GATEWAY_MAIN.replace(/main\.js$/, 'cli.js');

let db: TestDatabase;
let node: NodeProcess | undefined;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await node?.kill();
  await db?.drop();
});

describe('the compiled gateway (dist/)', () => {
  it('its CLI migrates a fresh database; its node serves register, join and chat', async () => {
    const env = testEnv({ DATABASE_URL: db.url, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: uniqueName('dist') });
    await run(process.execPath, [`--conditions=${DIST_CONDITION}`, CLI, 'migrate'], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    expect((await db.query<{ n: string }>('SELECT count(*) AS n FROM "_prisma_migrations"'))[0]?.n).not.toBe('0');

    node = await startGatewayProcess({ ...env, NODE_ID: 'dist-1', PORT: '0', MIGRATE_ON_START: 'false' });
    expect(node.child.spawnargs.slice(1)).toEqual([`--conditions=${DIST_CONDITION}`, GATEWAY_MAIN]);
    expect(GATEWAY_MAIN).toMatch(/services\/gateway\/dist\/main\.js$/);

    const [alice, bob] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const room = uniqueName('room');
    const [a, b] = await Promise.all([connect(node.url, '/', alice.token), connect(node.url, '/', bob.token)]);
    sockets.push(a, b);
    await request(a, 'join', { room });
    await request(b, 'join', { room });
    const received = nextEvent<{ text: string; username: string }>(b, 'message', (m) => m.text === 'compiled');
    expect(await request(a, 'chatMessage', { room, text: 'compiled' })).toMatchObject({ ok: true });
    expect(await received).toMatchObject({ text: 'compiled', username: alice.user.username });
  });
});
