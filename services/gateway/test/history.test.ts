import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '@parley/protocol';
import { http, registerAndConnect, request, tokenFor, type Client, type TestBackend } from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

const ROOM = 'history room';
const COUNT = 7;

let node: TestBackend;
let alice: Client;
let ids: number[];
beforeAll(async () => {
  node = await startTestBackend();
  alice = await registerAndConnect(node.url);
  await request(alice.socket, 'join', { room: ROOM });
  ids = [];
  for (let i = 0; i < COUNT; i++) ids.push((await request<{ id: number }>(alice.socket, 'chatMessage', `m${i}`)).id);
});
afterAll(async () => {
  alice?.socket.close();
  await node?.close();
});

function get(query: string, room = ROOM, token = alice.token) {
  return http<{ messages: ChatMessage[]; error?: { code: string } }>(
    node.url,
    'GET',
    `/rooms/${encodeURIComponent(room)}/messages${query}`,
    { token },
  );
}

describe('GET /rooms/:room/messages', () => {
  it('returns the room messages newest first, in the contract shape', async () => {
    const res = await get('');
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m) => m.id)).toEqual([...ids].reverse());
    expect(res.body.messages[0]).toEqual({
      id: ids[COUNT - 1],
      room: ROOM,
      username: alice.user.username,
      userId: alice.user.id,
      text: `m${COUNT - 1}`,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      position: COUNT,
    });
  });

  it('pages with limit and before', async () => {
    const first = await get('?limit=3');
    expect(first.body.messages.map((m) => m.text)).toEqual(['m6', 'm5', 'm4']);
    const second = await get(`?limit=3&before=${first.body.messages[2]!.id}`);
    expect(second.body.messages.map((m) => m.text)).toEqual(['m3', 'm2', 'm1']);
    const last = await get(`?limit=3&before=${second.body.messages[2]!.id}`);
    expect(last.body.messages.map((m) => m.text)).toEqual(['m0']);
  });

  it('an unknown room is empty', async () => {
    expect(await get('', 'nobody here')).toMatchObject({ status: 200, body: { messages: [] } });
  });

  it.each([
    'limit=0',
    'limit=101',
    'limit=-1',
    'limit=abc',
    'limit=1.5',
    'limit=',
    'before=0',
    'before=-5',
    'before=abc',
    'before=1.5',
    'before=',
    `before=${'9'.repeat(20)}`,
    'limit=1&limit=2',
  ])('400 invalid_payload for %s', async (query) => {
    const res = await get(`?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.error?.code).toBe('invalid_payload');
  });

  it('400 invalid_payload for a room name over 64 characters or with bad characters', async () => {
    for (const room of ['r'.repeat(65), 'semi;colon', 'new\nline']) {
      const res = await get('', room);
      expect(res.status, room).toBe(400);
      expect(res.body.error?.code).toBe('invalid_payload');
    }
  });

  it('400 invalid_payload for a badly percent-encoded room', async () => {
    const res = await http<{ error: { code: string } }>(node.url, 'GET', '/rooms/%E0%A4%A/messages', { token: alice.token });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_payload');
  });

  it('403 forbidden for reserved rooms', async () => {
    for (const room of [`user:${alice.user.id}`, 'node:x', 'admin:x', 'system:x', alice.socket.id!]) {
      const res = await get('', room);
      expect(res.status, room).toBe(403);
      expect(res.body.error?.code).toBe('forbidden');
    }
  });

  it('401 without a valid token', async () => {
    const none = await http<{ error: { code: string } }>(node.url, 'GET', `/rooms/lobby/messages`);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthorized');
    const expired = await get('', ROOM, tokenFor(alice.user, { expiresInSec: -1 }));
    expect(expired.status).toBe(401);
    expect(expired.body.error?.code).toBe('token_expired');
  });
});

describe('GET /rooms/:room/messages: default and largest page', () => {
  const BULK_ROOM = 'bulk room';
  const BULK = 120;
  /** Ids of BULK_ROOM, oldest first. */
  let bulk: number[];
  beforeAll(async () => {
    // More messages than the largest page, in one statement: sending them would take a rate limit.
    const rows = await node.db.query<{ id: string }>(
      `INSERT INTO messages (room, author_id, text) SELECT $1, $2, 'b' || g FROM generate_series(1, ${BULK}) g RETURNING id`,
      [BULK_ROOM, alice.user.id],
    );
    bulk = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(bulk).toHaveLength(BULK);
  });
  const newest = (n: number) => [...bulk].reverse().slice(0, n);

  it('without a limit: exactly the newest 50 (docs/PROTOCOL.md: default limit 50)', async () => {
    const res = await get('', BULK_ROOM);
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m) => m.id)).toEqual(newest(50));
    expect(res.body.messages.map((m) => m.text)).toEqual(newest(50).map((_, i) => `b${BULK - i}`));
  });

  it('limit=100 (the largest): exactly the newest 100; limit=1: the newest one', async () => {
    expect((await get('?limit=100', BULK_ROOM)).body.messages.map((m) => m.id)).toEqual(newest(100));
    expect((await get('?limit=1', BULK_ROOM)).body.messages.map((m) => m.id)).toEqual(newest(1));
  });

  it('before pages past the first 100 to the oldest', async () => {
    const rest = await get(`?limit=100&before=${newest(100)[99]}`, BULK_ROOM);
    expect(rest.body.messages.map((m) => m.id)).toEqual(newest(BULK).slice(100));
  });
});
