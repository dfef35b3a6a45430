import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Notification } from '@parley/protocol';
import {
  collect,
  connect,
  connectError,
  createTestDatabase,
  http,
  login,
  nextEvent,
  registerUser,
  runCli,
  startNode,
  type TestDatabase,
  within,
  type TestNode,
} from '@parley/testkit';

let db: TestDatabase;
let node: TestNode;
let env: Record<string, string>;
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  // Own bus channel: other test files share the Redis server.
  env = { DATABASE_URL: db.url, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: `parley-test-${randomBytes(4).toString('hex')}` };
  node = await startNode(env);
  // The node migrated; each CLI run can skip that.
  env.MIGRATE_ON_START = 'false';
});
afterAll(async () => {
  await node?.close();
  await db?.drop();
});

// Each case spawns the CLI (tsx start-up: seconds each, far more on a loaded machine).
describe('cli', { timeout: 120_000 }, () => {
  it('create-admin creates an admin (password on standard input), and resets it when run again (ADMIN_PASSWORD)', async () => {
    const first = await runCli(['create-admin', 'cli_admin'], env, 'first-password\n');
    expect(first).toMatchObject({ code: 0 });
    const { admin } = JSON.parse(first.stdout) as { admin: { id: number; role: string } };
    expect(admin.role).toBe('admin');
    expect((await login(node.url, 'cli_admin', 'first-password')).user).toEqual(admin);

    const again = await runCli(['create-admin'], { ...env, ADMIN_USERNAME: 'cli_admin', ADMIN_PASSWORD: 'second-password' });
    expect(JSON.parse(again.stdout)).toEqual({ admin });
    expect((await login(node.url, 'cli_admin', 'second-password')).user.role).toBe('admin');
    await connect(node.url, '/admin', (await login(node.url, 'cli_admin', 'second-password')).token).then((s) => s.close());
  });

  it('create-admin never promotes an existing account, and never takes the password from argv', async () => {
    const mallory = await registerUser(node.url, 'mallory_cli', 'mallory-password');
    const [promote, onArgv] = await Promise.all([
      runCli(['create-admin', 'mallory_cli'], env, 'new-admin-password\n'),
      runCli(['create-admin', 'argv_admin', 'visible-in-ps'], env),
    ]);
    expect(promote).toMatchObject({ code: 1, stderr: expect.stringContaining('username_taken') });
    // Untouched: still a user, still her password, her token still not admin.
    expect((await login(node.url, 'mallory_cli', 'mallory-password')).user).toEqual(mallory.user);
    expect(onArgv).toMatchObject({ code: 2, stderr: expect.stringContaining('ADMIN_PASSWORD') });
    expect((await http(node.url, 'POST', '/auth/login', { body: { username: 'argv_admin', password: 'visible-in-ps' } })).status).toBe(401);
  });

  it('set-role demotes an admin: its tokens are revoked and its live sockets closed through Redis; it promotes only when asked', async () => {
    const created = await runCli(['create-admin', 'demoted_admin'], env, 'admin-password-9\n');
    expect(created).toMatchObject({ code: 0 });
    const session = await login(node.url, 'demoted_admin', 'admin-password-9');
    const adminSocket = await connect(node.url, '/admin', session.token);
    const chatSocket = await connect(node.url, '/', session.token);
    const ended = [adminSocket, chatSocket].map((socket) =>
      within(
        'the revocation to reach a socket',
        Promise.all([
          nextEvent<{ code: string }>(socket, 'error', () => true, 60_000),
          new Promise((resolve) => socket.once('disconnect', resolve)),
        ]),
        60_000,
      ),
    );
    // The CLI's start-up takes seconds; the 2 s bound is measured from its exit.
    const demote = await runCli(['set-role', 'demoted_admin', 'user'], env);
    const exitedAt = Date.now();
    expect(demote).toMatchObject({ code: 0 });
    expect(JSON.parse(demote.stdout)).toEqual({ user: { ...session.user, role: 'user' }, tokensRevoked: true });
    for (const [error, reason] of await Promise.all(ended)) expect([error.code, reason]).toEqual(['token_revoked', 'io server disconnect']);
    expect(Date.now() - exitedAt).toBeLessThan(2000);
    const old = await http(node.url, 'GET', '/me', { token: session.token });
    expect([old.status, (old.body as { error: { code: string } }).error.code]).toEqual([401, 'token_revoked']);
    const relogged = await login(node.url, 'demoted_admin', 'admin-password-9');
    expect(relogged.user.role).toBe('user');
    expect((await connectError(node.url, '/admin', relogged.token)).data?.code).toBe('forbidden');

    const [promote, unchanged, unknown, badRole] = await Promise.all([
      runCli(['set-role', 'demoted_admin', 'admin'], env),
      runCli(['set-role', 'cli_admin', 'admin'], env),
      runCli(['set-role', 'nobody_here', 'user'], env),
      runCli(['set-role', 'demoted_admin', 'root'], env),
    ]);
    expect(JSON.parse(promote.stdout)).toMatchObject({ user: { role: 'admin' }, tokensRevoked: true });
    expect(JSON.parse(unchanged.stdout)).toMatchObject({ user: { role: 'admin' }, tokensRevoked: false });
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('not_found') });
    expect(badRole).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid_payload') });
  });

  it('notify reaches a connected socket through the Redis bus', async () => {
    const user = await registerUser(node.url);
    const socket = await connect(node.url, '/notifications', user.token);
    try {
      const seen = collect<Notification>(socket, 'notification');
      const result = await runCli(['notify', String(user.user.id), 'hello', 'from', 'a', 'script'], env);
      expect(result).toMatchObject({ code: 0 });
      const notification = seen[0] ?? (await nextEvent<Notification>(socket, 'notification'));
      expect(notification).toMatchObject({ type: 'system', message: 'hello from a script', data: {}, readAt: null });
      expect(JSON.parse(result.stdout)).toMatchObject({ notification });
    } finally {
      socket.close();
    }
  });

  it('refuses unknown users and bad arguments; unknown commands print usage', async () => {
    const [unknown, malformed, badAdmin, usage] = await Promise.all([
      runCli(['notify', '999999', 'hi'], env),
      runCli(['notify', 'abc', 'hi'], env),
      runCli(['create-admin', 'x'], env, 'short\n'),
      runCli(['nope'], env),
    ]);
    expect(badAdmin).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid_payload') });
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('not_found') });
    expect(malformed).toMatchObject({ code: 1, stderr: expect.stringContaining('invalid_payload') });
    expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining('usage') });
  });
});
