import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Manager } from 'socket.io-client';
import { registerUser, request, startNodeWithDatabase, type TestNodeWithDatabase } from '@parley/testkit';

let node: TestNodeWithDatabase;
beforeAll(async () => {
  node = await startNodeWithDatabase(inject('postgresUrl'));
});
afterAll(async () => {
  await node?.close();
});

describe('the first HTTP request of a connection', () => {
  it('is dropped after the upgrade, and a later namespace still authenticates from its headers', async () => {
    const alice = await registerUser(node.url);
    // One connection (Manager), two namespaces: '/user' joins later, with the header only.
    const manager = new Manager(node.url, {
      transports: ['websocket'],
      reconnection: false,
      extraHeaders: { authorization: `Bearer ${alice.token}` },
    });
    const main = manager.socket('/', { auth: { token: alice.token } });
    await new Promise<void>((resolve, reject) => {
      main.once('connect', resolve);
      main.once('connect_error', reject);
    });
    const server = node.app.io.of('/').sockets.get(main.id!)!;
    expect(server.request).not.toHaveProperty('socket');
    expect(server.request).not.toHaveProperty('rawHeaders');
    expect(server.handshake.headers.authorization).toBe(`Bearer ${alice.token}`);

    const user = manager.socket('/user');
    await new Promise<void>((resolve, reject) => {
      user.once('connect', resolve);
      user.once('connect_error', reject);
    });
    expect(await request(user, 'whoami')).toMatchObject({ ok: true, user: { id: alice.user.id } });
    main.close();
    user.close();
  });
});
