import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '@parley/protocol';
import {
  createTestDatabase,
  registerAndConnect,
  request,
  startNode,
  startPostgresServer,
  uniqueName,
  type ClientSocket,
  type PostgresServer,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

// The durability guarantee (docs/ARCHITECTURE.md "Durability"): a chat message is acknowledged
// to its sender and broadcast to its room only after the transaction that stores it has
// committed with synchronous_commit on, so it survives a PostgreSQL crash at any moment after
// that. An asynchronous commit (synchronous_commit off) loses the last transactions of a crash.

const MESSAGES = 200;

describe('a PostgreSQL crash right after the acks', () => {
  let server: PostgresServer;
  let db: TestDatabase;
  let node: TestNode;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    server = await startPostgresServer();
    db = await createTestDatabase(server.url());
    // PARLEY_TEST_DATABASE_OPTIONS: e.g. `-c synchronous_commit=off`, to see this test fail.
    const options = process.env.PARLEY_TEST_DATABASE_OPTIONS;
    node = await startNode({
      DATABASE_URL: options ? `${db.url}?options=${encodeURIComponent(options)}` : db.url,
      // All the messages at once, so that many commits are in flight when the crash comes.
      RATE_LIMIT_BURST: String(MESSAGES),
    });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await node?.close();
    await server?.stop();
  });

  it('loses no message that was acknowledged or broadcast', async () => {
    const room = uniqueName('room');
    const [alice, bob] = await Promise.all([registerAndConnect(node.url), registerAndConnect(node.url)]);
    sockets.push(alice.socket, bob.socket);
    await Promise.all([request(alice.socket, 'join', { room }), request(bob.socket, 'join', { room })]);
    const heard: number[] = [];
    bob.socket.on('message', (m: ChatMessage) => {
      if (m.room === room) heard.push(m.id);
    });

    const acks = await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        request<{ ok: boolean; id: number }>(alice.socket, 'chatMessage', { room, text: `m${i}` }),
      ),
    );
    const acked = acks.map((a) => {
      expect(a.ok).toBe(true);
      return a.id;
    });
    // Crash the moment the last ack arrived: nothing gets a chance to flush afterwards.
    await server.crash();
    await server.start();

    const stored = await db.query<{ id: string; room_position: string }>(
      'SELECT id, room_position FROM messages WHERE room = $1 ORDER BY room_position',
      [room],
    );
    const storedIds = new Set(stored.map((r) => Number(r.id)));
    expect(
      acked.filter((id) => !storedIds.has(id)),
      'acknowledged, then lost in the crash',
    ).toEqual([]);
    expect(
      heard.filter((id) => !storedIds.has(id)),
      'broadcast, then lost in the crash',
    ).toEqual([]);
    expect(stored.map((r) => Number(r.room_position))).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
  });
});
