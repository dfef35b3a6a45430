import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ChatMessage, RoomUsers } from '@parley/protocol';
import {
  http,
  nextEvent,
  registerAndConnect,
  request,
  startNodeWithDatabase,
  uniqueName,
  type Client,
  type TestNodeWithDatabase,
} from '@parley/testkit';

let node: TestNodeWithDatabase;
let alice: Client;
let bob: Client;
beforeAll(async () => {
  node = await startNodeWithDatabase(inject('postgresUrl'), { RATE_LIMIT_BURST: '200' });
  [alice, bob] = await Promise.all([registerAndConnect(node.url), registerAndConnect(node.url)]);
});
afterAll(async () => {
  alice?.socket.close();
  bob?.socket.close();
  await node?.close();
});

/** Control characters (other than tab and line breaks) and text that is only invisible. */
const BAD_TEXTS = {
  NUL: 'a\u0000b',
  'a control character': 'bell\u0007',
  'an escape sequence': 'x\u001b[2J',
  DEL: 'x\u007f',
  'zero-width spaces only': '\u200b\u200b',
  'a byte-order mark and a joiner only': '\ufeff\u200d',
  'bidi marks only': '\u200e\u202e',
  // Not well-formed UTF-16: PostgreSQL would store U+FFFD instead (the text silently altered).
  'a lone high surrogate': 'a\ud800b',
  'a lone low surrogate': '\udfff',
};

describe('stored text', () => {
  it.each(Object.entries(BAD_TEXTS))('refuses %s in chat, private messages and posts with invalid_payload', async (_what, text) => {
    const room = uniqueName('room');
    await request(alice.socket, 'join', { room });
    const refused = { ok: false, error: { code: 'invalid_payload', message: expect.any(String) } };
    expect(await request(alice.socket, 'chatMessage', { room, text })).toEqual(refused);
    expect(await request(alice.socket, 'privateMessage', { to: bob.user.id, message: text })).toEqual(refused);
    for (const body of [{ content: text }, { title: text, content: 'fine' }]) {
      const res = await http<{ error: { code: string } }>(node.url, 'POST', '/posts', { token: alice.token, body });
      expect({ status: res.status, code: res.body.error.code }).toEqual({ status: 400, code: 'invalid_payload' });
    }
    const rows = await node.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE author_id = $1', [alice.user.id]);
    expect(rows[0]?.n).toBe(0);
  });

  it.each(Object.entries(BAD_TEXTS))("refuses %s in a message's clientId with invalid_payload", async (_what, clientId) => {
    const room = uniqueName('room');
    await request(alice.socket, 'join', { room });
    const refused = { ok: false, error: { code: 'invalid_payload', message: expect.any(String) } };
    expect(await request(alice.socket, 'chatMessage', { room, text: 'fine', clientId })).toEqual(refused);
    expect(await request(alice.socket, 'privateMessage', { to: bob.user.id, message: 'fine', clientId })).toEqual(refused);
  });

  it('keeps a well-formed surrogate pair (an emoji beyond the BMP)', async () => {
    const room = uniqueName('room');
    await request(alice.socket, 'join', { room });
    const ack = await request<{ ok: boolean; id: number }>(alice.socket, 'chatMessage', { room, text: 'hi 🦜', clientId: 'c-🦜' });
    expect(ack.ok).toBe(true);
    const [row] = await node.db.query<{ text: string; client_id: string }>('SELECT text, client_id FROM messages WHERE id = $1', [ack.id]);
    expect(row).toEqual({ text: 'hi 🦜', client_id: 'c-🦜' });
  });

  it('keeps tabs, line breaks and visible text around invisible characters', async () => {
    const room = uniqueName('room');
    await request(alice.socket, 'join', { room });
    const text = 'line one\n\tline two \u200b(with a zero-width space)';
    expect(await request(alice.socket, 'chatMessage', { room, text })).toMatchObject({ ok: true });
    const res = await http(node.url, 'POST', '/posts', { token: alice.token, body: { content: text } });
    expect(res.status).toBe(201);
  });
});

describe('room names', () => {
  it('are trimmed and NFC-normalised: every spelling is the same room, named the normalised way', async () => {
    const base = uniqueName('école');
    const composed = base.normalize('NFC');
    const decomposed = base.normalize('NFD');
    expect(decomposed).not.toBe(composed);

    const aliceIn = await request<{ room: string; users: string[] }>(alice.socket, 'join', { room: `  ${decomposed} ` });
    expect(aliceIn).toMatchObject({ ok: true, room: composed, users: [alice.user.username] });
    const aliceSees = nextEvent<RoomUsers>(alice.socket, 'roomUsers', (u) => u.users.length === 2);
    const bobIn = await request<{ room: string; users: string[] }>(bob.socket, 'join', { room: composed });
    expect(bobIn).toMatchObject({ ok: true, room: composed, users: [alice.user.username, bob.user.username] });
    expect(await aliceSees).toEqual({ room: composed, users: [alice.user.username, bob.user.username], count: 2 });

    const heard = nextEvent<ChatMessage>(bob.socket, 'message', (m) => 'id' in m);
    const sent = await request<{ id: number }>(alice.socket, 'chatMessage', { room: `${decomposed}  `, text: 'one room' });
    expect(await heard).toMatchObject({ id: sent.id, room: composed, text: 'one room' });

    const history = await http<{ messages: ChatMessage[] }>(node.url, 'GET', `/rooms/${encodeURIComponent(` ${decomposed}`)}/messages`, {
      token: bob.token,
    });
    expect(history.body.messages.map((m) => [m.id, m.room])).toEqual([[sent.id, composed]]);
  });

  it('refuse a name that is blank once trimmed', async () => {
    expect(await request(alice.socket, 'join', { room: '   ' })).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
  });
});
