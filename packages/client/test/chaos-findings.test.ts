import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import type { ChatMessage } from '@parley/protocol';
import { connect, registerUser, request, startNodeWithDatabase, uniqueName, within, type TestNodeWithDatabase } from '@parley/testkit';

// Bugs of @parley/client found by the chaos run (`pnpm chaos`, docs/CLUSTER.md "Chaos run"),
// reproduced here one at a time. Each test failed on the client before its fix (the comment
// says how) and asserts the fixed behaviour.

/** The node's statement_timeout: a catch-up blocked by a lock is refused quickly. */
const STATEMENT_TIMEOUT_MS = 500;

let node: TestNodeWithDatabase;
const clients: ParleyClient[] = [];
beforeAll(async () => {
  node = await startNodeWithDatabase(inject('postgresUrl'), {
    DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
    LOG_LEVEL: 'warn',
  });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await node?.close();
});

/** The client reconnects this long after a drop: time for a test to set the scene meanwhile. */
const RECONNECT_DELAY_MS = 1500;

async function joined(room: string): Promise<ParleyClient> {
  const { token } = await registerUser(node.url);
  const socket = { transports: ['websocket'], reconnectionDelay: RECONNECT_DELAY_MS, randomizationFactor: 0 };
  const c = new ParleyClient({ url: node.url, token, socket });
  clients.push(c);
  await c.connected();
  await c.join(room);
  return c;
}

/** Drop the client's connection (as when its node dies); resolves once the client has seen it. */
async function drop(c: ParleyClient): Promise<void> {
  const gone = within('the client to see its connection drop', new Promise((resolve) => c.socket.once('disconnect', resolve)));
  c.socket.io.engine.close();
  await gone;
}

describe('@parley/client: bugs found by the chaos run', () => {
  it('a send called while the connection is down waits for the rejoin: stored once, resolved with its id', async () => {
    const room = uniqueName('room');
    const c = await joined(room);
    await drop(c);
    // Before: socket.io-client buffered the emit and flushed it on the reconnection, before the
    // client had rejoined the room, and 'forbidden' is not retried (about 1 % of the sends of a
    // chaos run: those called during a failover).
    const id = await within('the send called while down', c.send(room, 'typed while down'), 10_000);
    const rows = await node.db.query<{ id: string }>('SELECT id FROM messages WHERE text = $1', ['typed while down']);
    expect(rows.map((r) => Number(r.id))).toEqual([id]);
  });

  it('a catch-up refused while the connection stays up is tried again', async () => {
    const room = uniqueName('room');
    const c = await joined(room);
    const got: number[] = [];
    c.onMessage((m: ChatMessage) => got.push(m.id));
    const other = await connect(node.url, '/', (await registerUser(node.url)).token);
    await request(other, 'join', { room });
    await drop(c);
    const missed = await request<{ id: number }>(other, 'chatMessage', { room, text: 'missed' });
    // The reconnection's rejoin works; its 'sync' waits for the lock and is refused `unavailable`
    // after the statement timeout (in the chaos run: node pools exhausted by 300 clients
    // catching up at once after Redis came back, 211 syncs refused on one node).
    const release = await node.db.hold('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
    const resynced = new Promise<void>((resolve) => c.onResync(resolve));
    try {
      expect(c.socket.connected, 'the lock must be held before the client reconnects').toBe(false);
      await node.nextLog('the catch-up refused', (e) => e.msg === 'socket handler: a dependency is unavailable' && e.event === 'sync');
    } finally {
      await release();
    }
    const live = within('"after" live', new Promise<void>((resolve) => c.onMessage((m) => m.text === 'after' && resolve())));
    await request(other, 'chatMessage', { room, text: 'after' });
    await live;
    // Before: connected and in the room again, the catch-up was never tried again: 'missed' (and
    // onResync) did not come until the next reconnection.
    await within('onResync after the refused catch-up', resynced, 5000);
    expect(got).toContain(missed.id);
    other.close();
  });
});
