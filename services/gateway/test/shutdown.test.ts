import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  connectError,
  http,
  nextEvent,
  registerAndConnect,
  request,
  startNodeWithDatabase,
  type Client,
  type TestNodeWithDatabase,
} from '@parley/testkit';

const UNAVAILABLE = { error: { code: 'unavailable', message: 'This node is shutting down' } };

let node: TestNodeWithDatabase;
let alice: Client;
beforeAll(async () => {
  // A node of its own: the test shuts it down.
  node = await startNodeWithDatabase(inject('postgresUrl'));
  alice = await registerAndConnect(node.url);
  await request(alice.socket, 'join', { room: 'lobby' });
});
afterAll(async () => {
  alice?.socket.close();
  await node?.app.close();
  await node?.db.drop();
});

describe('graceful shutdown (app.close(), what SIGTERM runs)', () => {
  it('while it drains: new HTTP requests and handshakes are 503 unavailable; acks of writes in flight still arrive', async () => {
    // Hold the drain open: a chat message whose INSERT waits on a table lock. The node flushes
    // its writes before closing transports, so it stays in the window until the lock goes.
    const release = await node.db.hold('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
    let released = false;
    try {
      const ack = request<{ ok: boolean; id?: number }>(alice.socket, 'chatMessage', 'in flight');
      // Events of one socket are handled in order: once this ack is back, the message is queued.
      expect(await request(alice.socket, 'typing', { room: 'lobby' })).toEqual({ ok: true });
      const shutdown = nextEvent(alice.socket, 'serverShutdown');
      const closed = node.app.close();
      expect(await shutdown).toEqual({ nodeId: node.config.nodeId, reconnect: true });

      for (const [method, path, body] of [
        ['GET', '/healthz', undefined],
        ['GET', '/readyz', undefined],
        ['POST', '/auth/login', { username: alice.user.username, password: 'password123' }],
        ['GET', '/me', undefined],
      ] as const) {
        // From a browser page: the 503 must carry CORS headers, or the page sees a CORS failure.
        const headers = { origin: 'http://app.example' };
        const res = await http(node.url, method, path, { token: alice.token, headers, ...(body ? { body } : {}) });
        const cors = res.headers.get('access-control-allow-origin');
        expect({ path, status: res.status, body: res.body, cors }).toEqual({ path, status: 503, body: UNAVAILABLE, cors: '*' });
      }
      // A Socket.IO handshake, over long-polling (the HTTP answer itself) and over WebSocket.
      const polling = await http(node.url, 'GET', '/socket.io/?EIO=4&transport=polling');
      expect({ status: polling.status, body: polling.body }).toEqual({ status: 503, body: UNAVAILABLE });
      const refused = await connectError(node.url, '/', alice.token);
      expect(refused.message).toBe('websocket error');
      expect(String((refused as { description?: { message?: string } }).description?.message)).toContain('503');
      // The connection that was there is still up, waiting for its ack.
      expect(alice.socket.connected).toBe(true);

      const gone = nextEvent<string>(alice.socket, 'disconnect');
      released = true;
      await release();
      expect(await ack).toEqual({ ok: true, id: expect.any(Number), position: expect.any(Number) });
      expect(await gone).toBe('transport close');
      await closed;
      const [row] = await node.db.query<{ text: string }>('SELECT text FROM messages');
      expect(row).toEqual({ text: 'in flight' });
    } finally {
      if (!released) await release();
    }
  });
});
