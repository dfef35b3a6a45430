import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INT4_ID, MAX_TEXT_LENGTH, type ChatMessage, type PrivateMessage, type TypingEvent } from '@parley/protocol';
import {
  collectUntil,
  connect,
  http,
  nextEvent,
  registerAndConnect,
  request,
  uniqueName,
  type Client,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

let node: TestBackend;
let alice: Client;
let bob: Client;
beforeAll(async () => {
  node = await startTestBackend({ RATE_LIMIT_BURST: '200' });
  [alice, bob] = await Promise.all([registerAndConnect(node.url), registerAndConnect(node.url)]);
});
afterAll(async () => {
  alice?.socket.close();
  bob?.socket.close();
  await node?.close();
});

/** Both alice and bob in a fresh room (bob has seen alice arrive). */
async function sharedRoom(): Promise<string> {
  const room = uniqueName('room');
  await request(bob.socket, 'join', { room });
  const arrived = nextEvent<{ text: string }>(bob.socket, 'message', (m) => m.text === `${alice.user.username} has joined`);
  await request(alice.socket, 'join', { room });
  await arrived;
  return room;
}

async function history(room: string): Promise<ChatMessage[]> {
  const res = await http<{ messages: ChatMessage[] }>(node.url, 'GET', `/rooms/${encodeURIComponent(room)}/messages`, { token: bob.token });
  expect(res.status).toBe(200);
  return res.body.messages;
}

const chat = (text: string) => (m: ChatMessage) => m.text === text;

describe('message (the lesson echo)', () => {
  it.each([
    ['an object', { hello: 'world', n: [1, 2] }],
    ['a string', 'plain'],
    ['a number', 42],
    ['null', null],
  ])('%s: response to the sender, newMessage to the others, broadcast to everyone', async (_name, data) => {
    const response = nextEvent(alice.socket, 'response');
    const newMessage = nextEvent(bob.socket, 'newMessage');
    const broadcasts = [nextEvent(alice.socket, 'broadcast'), nextEvent(bob.socket, 'broadcast')];
    alice.socket.emit('message', data);
    expect(await response).toEqual({ message: 'Received' });
    expect(await newMessage).toEqual(data);
    expect(await Promise.all(broadcasts)).toEqual([data, data]);
  });

  it('the sender gets no newMessage of its own', async () => {
    const marker = uniqueName('m');
    const seen = collectUntil(alice.socket, 'newMessage', (d) => d === marker);
    const processed = nextEvent(alice.socket, 'response');
    alice.socket.emit('message', 'not for me');
    await processed;
    bob.socket.emit('message', marker);
    expect(await seen).toEqual([marker]);
  });
});

describe('chatMessage', () => {
  it('text form goes to the current room: message to everyone there, ack {ok, id}, stored', async () => {
    const room = await sharedRoom();
    const text = uniqueName('hello');
    const atBob = nextEvent<ChatMessage>(bob.socket, 'message', chat(text));
    const atAlice = nextEvent<ChatMessage>(alice.socket, 'message', chat(text));
    const ack = await request<{ ok: true; id: number; position: number }>(alice.socket, 'chatMessage', text);
    expect(ack).toEqual({ ok: true, id: expect.any(Number), position: 1 });
    const expected = {
      id: ack.id,
      room,
      username: alice.user.username,
      userId: alice.user.id,
      text,
      timestamp: expect.any(String),
      position: 1,
    };
    expect(await atBob).toEqual(expected);
    expect(await atAlice).toEqual(expected);
    expect(await history(room)).toEqual([expected]);
  });

  it('{room, text} form goes to that room; the current room is untouched', async () => {
    const room = await sharedRoom();
    const other = uniqueName('other');
    await request(alice.socket, 'joinRoom', other);
    const ack = await request<{ ok: true; id: number }>(alice.socket, 'chatMessage', { room: other, text: 'elsewhere' });
    expect(ack.ok).toBe(true);
    expect((await history(other)).map((m) => m.id)).toEqual([ack.id]);
    const atCurrent = await request<{ ok: true; id: number }>(alice.socket, 'chatMessage', 'here');
    expect((await history(room)).map((m) => m.id)).toEqual([atCurrent.id]);
  });

  it('without a current room the text form is invalid_payload', async () => {
    const carol = await registerAndConnect(node.url);
    expect(await request(carol.socket, 'chatMessage', 'hello?')).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    carol.socket.close();
  });

  it('a room the sender is not in is forbidden', async () => {
    const room = uniqueName('closed');
    await request(bob.socket, 'join', { room });
    expect(await request(alice.socket, 'chatMessage', { room, text: 'let me in' })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await history(room)).toEqual([]);
  });

  it(`accepts exactly ${MAX_TEXT_LENGTH} characters; ${MAX_TEXT_LENGTH + 1} is invalid_payload, not broadcast, not stored`, async () => {
    const room = await sharedRoom();
    const seen = collectUntil<ChatMessage>(bob.socket, 'message', (m) => m.text.length === MAX_TEXT_LENGTH);
    const tooLong = await request(alice.socket, 'chatMessage', { room, text: 'x'.repeat(MAX_TEXT_LENGTH + 1) });
    expect(tooLong).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    const longest = await request<{ ok: true; id: number }>(alice.socket, 'chatMessage', { room, text: 'y'.repeat(MAX_TEXT_LENGTH) });
    expect(longest.ok).toBe(true);
    expect((await seen).map((m) => m.id)).toEqual([longest.id]);
    expect((await history(room)).map((m) => m.id)).toEqual([longest.id]);
  });

  it('works without an ack too (errors then come as an "error" event)', async () => {
    const room = await sharedRoom();
    const text = uniqueName('noack');
    const atBob = nextEvent<ChatMessage>(bob.socket, 'message', chat(text));
    alice.socket.emit('chatMessage', { room, text });
    expect(await atBob).toMatchObject({ room, text, username: alice.user.username });
    const error = nextEvent(alice.socket, 'error');
    alice.socket.emit('chatMessage', { room, text: '   ' });
    expect(await error).toMatchObject({ code: 'invalid_payload' });
  });
});

describe('privateMessage', () => {
  it("reaches every socket of the recipient and the sender's other sockets, with an ack", async () => {
    const bob2 = await connect(node.url, '/', bob.token);
    const alice2 = await connect(node.url, '/', alice.token);
    const message = uniqueName('psst');
    const got = [bob.socket, bob2, alice2].map((s) => nextEvent<PrivateMessage>(s, 'privateMessage', (m) => m.message === message));
    const ack = await request<{ ok: true; id: number; position: number }>(alice.socket, 'privateMessage', { to: bob.user.id, message });
    expect(ack).toEqual({ ok: true, id: ack.id, position: expect.any(Number) });
    const expected = {
      id: ack.id,
      from: alice.user.id,
      fromUsername: alice.user.username,
      to: bob.user.id,
      message,
      timestamp: expect.any(String),
    };
    // Each side at its place in its own private stream: bob's, and alice's (the ack's).
    const [atBob, atBob2, atAlice2] = await Promise.all(got);
    const bobsPosition = (await request<{ position: number }>(bob.socket, 'syncPrivate', { sincePosition: 0, limit: 0 })).position;
    expect([atBob, atBob2]).toEqual([
      { ...expected, position: bobsPosition },
      { ...expected, position: bobsPosition },
    ]);
    expect(atAlice2).toEqual({ ...expected, position: ack.position });

    // Not echoed to the sending socket: the next private message it gets is bob's reply.
    const reply = uniqueName('reply');
    const seen = collectUntil<PrivateMessage>(alice.socket, 'privateMessage', (m) => m.message === reply);
    await request(bob.socket, 'privateMessage', { to: alice.user.id, message: reply });
    expect((await seen).map((m) => m.message)).toEqual([reply]);

    const [row] = await node.db.query<{ recipient_id: number; room: string | null }>(
      'SELECT recipient_id, room FROM messages WHERE id = $1',
      [ack.id],
    );
    expect(row).toEqual({ recipient_id: bob.user.id, room: null });
    bob2.close();
    alice2.close();
  });

  it("to oneself: the sender's other sockets get it, the sending socket does not; stored", async () => {
    const alice2 = await connect(node.url, '/', alice.token);
    const message = uniqueName('note-to-self');
    const onOther = nextEvent<PrivateMessage>(alice2, 'privateMessage', (m) => m.message === message);
    const onSender = collectUntil<PrivateMessage>(alice.socket, 'privateMessage', (m) => m.message === `${message}-marker`);
    const ack = await request<{ ok: true; id: number; position: number }>(alice.socket, 'privateMessage', { to: alice.user.id, message });
    expect(ack).toEqual({ ok: true, id: expect.any(Number), position: expect.any(Number) });
    expect(await onOther).toEqual({
      id: ack.id,
      from: alice.user.id,
      fromUsername: alice.user.username,
      to: alice.user.id,
      message,
      timestamp: expect.any(String),
      position: ack.position,
    });
    await request(alice2, 'privateMessage', { to: alice.user.id, message: `${message}-marker` });
    expect((await onSender).map((m) => m.message)).toEqual([`${message}-marker`]);
    const [row] = await node.db.query('SELECT author_id, recipient_id, room, text FROM messages WHERE id = $1', [ack.id]);
    expect(row).toEqual({ author_id: alice.user.id, recipient_id: alice.user.id, room: null, text: message });
    alice2.close();
  });

  it('an unknown user is not_found', async () => {
    expect(await request(alice.socket, 'privateMessage', { to: MAX_INT4_ID, message: 'anyone?' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
  });

  it.each([
    ['beyond the id range', 2 ** 40],
    ['beyond safe integers', Number.MAX_SAFE_INTEGER + 2],
    ['zero', 0],
    ['negative', -1],
    ['fractional', 1.5],
    ['a numeric string', '1'],
    ['true', true],
    ['an array', [1]],
    ['null', null],
  ])('a recipient id that is %s is invalid_payload', async (_name, to) => {
    expect(await request(alice.socket, 'privateMessage', { to, message: 'hi' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });
});

describe('typing / stopTyping', () => {
  it.each(['typing', 'stopTyping'])('%s reaches the others in the room, not the sender', async (event) => {
    const room = await sharedRoom();
    const atBob = nextEvent<TypingEvent>(bob.socket, event);
    const atAlice = collectUntil<TypingEvent>(alice.socket, event, (e) => e.user === bob.user.username);
    alice.socket.emit(event, { room });
    expect(await atBob).toEqual({ user: alice.user.username, room });
    bob.socket.emit(event, { room });
    expect(await atAlice).toEqual([{ user: bob.user.username, room }]);
  });

  it.each(['typing', 'stopTyping'])('%s in a room the sender is not in (or has left) is forbidden and reaches no one', async (event) => {
    const room = await sharedRoom();
    const elsewhere = uniqueName('elsewhere');
    await request(bob.socket, 'join', { room: elsewhere });
    const bobSaw = collectUntil<TypingEvent>(bob.socket, event, (e) => e.user === alice.user.username && e.room === room);
    expect(await request(alice.socket, event, { room: elsewhere })).toEqual({
      ok: false,
      error: { code: 'forbidden', message: expect.any(String) },
    });
    expect(await request(alice.socket, event, { room })).toEqual({ ok: true });
    expect(await bobSaw).toEqual([{ user: alice.user.username, room }]);
    expect(await request(alice.socket, 'leaveRoom', room)).toEqual({ ok: true });
    expect(await request(alice.socket, event, { room })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});

describe('sync (extension)', () => {
  it('returns the messages after sinceId, oldest first, with hasMore', async () => {
    const room = await sharedRoom();
    const ids: number[] = [];
    for (const text of ['one', 'two', 'three']) ids.push((await request<{ id: number }>(alice.socket, 'chatMessage', text)).id);
    const page = await request<{ ok: true; messages: ChatMessage[]; hasMore: boolean }>(bob.socket, 'sync', {
      room,
      sinceId: ids[0],
      limit: 1,
    });
    expect(page).toMatchObject({ ok: true, hasMore: true });
    expect(page.messages.map((m) => m.text)).toEqual(['two']);
    const rest = await request<{ messages: ChatMessage[]; hasMore: boolean }>(bob.socket, 'sync', { room, sinceId: ids[1] });
    expect(rest).toMatchObject({ hasMore: false, messages: [{ id: ids[2], text: 'three' }] });
  });

  it('without a limit answers the oldest 100 after sinceId (docs/PROTOCOL.md: default 100), up to 500 with one', async () => {
    const room = await sharedRoom();
    // More than the largest page, in one statement (sending them would take the rate limit).
    const rows = await node.db.query<{ id: string }>(
      `INSERT INTO messages (room, author_id, text) SELECT $1, $2, 's' || g FROM generate_series(1, 520) g RETURNING id`,
      [room, alice.user.id],
    );
    const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
    type Page = { ok: true; messages: ChatMessage[]; hasMore: boolean };
    const first = await request<Page>(bob.socket, 'sync', { room, sinceId: 0 });
    expect([first.ok, first.hasMore, first.messages.map((m) => m.id)]).toEqual([true, true, ids.slice(0, 100)]);
    const largest = await request<Page>(bob.socket, 'sync', { room, sinceId: ids[9], limit: 500 });
    expect([largest.hasMore, largest.messages.map((m) => m.id)]).toEqual([true, ids.slice(10, 510)]);
    const rest = await request<Page>(bob.socket, 'sync', { room, sinceId: ids[509], limit: 500 });
    expect([rest.hasMore, rest.messages.map((m) => m.id)]).toEqual([false, ids.slice(510)]);
  });

  it('an ordinary room the socket is not in (or has left) is forbidden', async () => {
    const room = uniqueName('not-mine');
    await request(bob.socket, 'join', { room });
    expect(await request(bob.socket, 'chatMessage', { room, text: 'private talk' })).toMatchObject({ ok: true });
    expect(await request(alice.socket, 'sync', { room, sinceId: 0 })).toEqual({
      ok: false,
      error: { code: 'forbidden', message: expect.any(String) },
    });
    await request(alice.socket, 'join', { room });
    expect(await request(alice.socket, 'sync', { room, sinceId: 0 })).toMatchObject({ ok: true, messages: [{ text: 'private talk' }] });
    await request(alice.socket, 'leaveRoom', room);
    expect(await request(alice.socket, 'sync', { room, sinceId: 0 })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
  });
});
