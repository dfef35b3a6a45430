import { describe, expect, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import { nextEvent, registerUser, within, request, uniqueName } from '@parley/testkit';
import { useAliceAndBob } from '@parley/testkit/vitest';

// A gateway bug found by the chaos run (`pnpm chaos`, docs/CLUSTER.md "Chaos run"): a node
// killed between storing a message and broadcasting it. Before the fix, the sender's retry on
// another node was only acked, and members connected all along never got the message (13 of
// the 20 members of a room, in 1 chaos run of 3).
const the = useAliceAndBob();

describe('a node killed between storing a message and broadcasting it', () => {
  it("the retry is acked with the stored id and the room hears where it is: a member's client fetches it, in order", async () => {
    const room = uniqueName('room');
    for (const c of [the.alice, the.bob]) await request(c.socket, 'join', { room });
    const carol = await registerUser(the.node.url);
    const client = new ParleyClient({ url: the.node.url, token: carol.token, socket: { transports: ['websocket'] } });
    try {
      await client.connected();
      await client.join(room);
      const got: string[] = [];
      const marker = within(
        '"marker" at the client',
        new Promise<void>((resolve) => client.onMessage((m) => (got.push(m.text), m.text === 'marker' && resolve()))),
      );
      const hint = nextEvent<{ reason: string; room?: string; position?: number }>(the.bob.socket, 'resync');
      // All that a node killed after its commit and before its broadcast leaves: the row, at its position.
      const clientId = uniqueName('c');
      const [row] = await the.node.db.query<{ id: string }>(
        `WITH counter AS (
           INSERT INTO message_streams (stream, last_position) VALUES ('room:' || $1, 1)
           ON CONFLICT (stream) DO UPDATE SET last_position = message_streams.last_position + 1 RETURNING last_position)
         INSERT INTO messages (room, author_id, text, client_id, room_position)
         SELECT $1, $2, $3, $4, last_position FROM counter RETURNING id`,
        [room, the.alice.user.id, 'orphan', clientId],
      );
      // The sender's client retries on a live node with the same clientId: recognised as stored,
      // not broadcast again ("neither stored nor broadcast again"), but the room hears a hint.
      expect(await request(the.alice.socket, 'chatMessage', { room, text: 'orphan', clientId })).toEqual({
        ok: true,
        id: Number(row!.id),
        position: 1,
      });
      expect(await hint).toEqual({ reason: 'retry', room, position: 1 });
      // A message that follows it would show the gap too; the hint is what a quiet room has.
      await within(
        '"orphan" at the client (from the hint alone)',
        new Promise<void>((resolve) => {
          if (got.includes('orphan')) resolve();
          client.onMessage((m) => m.text === 'orphan' && resolve());
        }),
      );
      await request(the.alice.socket, 'chatMessage', { room, text: 'marker' });
      await marker;
      expect(got).toEqual(['orphan', 'marker']);
    } finally {
      client.close();
    }
  });
});
