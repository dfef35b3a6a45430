import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_ROOMS_PER_JOIN, MAX_TEXT_LENGTH, type ChatMessage } from '@parley/protocol';
import {
  collectUntil,
  http,
  nextEvent,
  registerAndConnect,
  request,
  uniqueName,
  type Client,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

const ROOM = 'lobby';
const tooLong = 'x'.repeat(MAX_TEXT_LENGTH + 1);

/** Every inbound event of '/' with payloads it must refuse with invalid_payload. */
const INVALID: Record<string, [string, unknown][]> = {
  join: [
    ['nothing', undefined],
    ['null', null],
    ['a bare string', ROOM],
    ['no room', { username: 'x' }],
    ['an empty room', { room: '' }],
    ['a numeric room', { room: 5 }],
    ['a room over 64 chars', { room: 'r'.repeat(65) }],
    ['a room with bad characters', { room: 'semi;colon' }],
    ['an array', [ROOM]],
    ['binary', Buffer.from('lobby')],
  ],
  chatMessage: [
    ['nothing', undefined],
    ['null', null],
    ['an empty text', ''],
    ['a blank text', '   '],
    ['a number', 42],
    ['text over the limit', tooLong],
    ['an object without text', { room: ROOM }],
    ['an object without room', { text: 'hi' }],
    ['a numeric text', { room: ROOM, text: 5 }],
    ['an object with text over the limit', { room: ROOM, text: tooLong }],
    ['a NUL character (PostgreSQL text cannot hold it)', { room: ROOM, text: 'a\u0000b' }],
    ['an array', ['hi']],
    ['binary', Buffer.from('hi')],
  ],
  joinRoom: [
    ['nothing', undefined],
    ['null', null],
    ['an empty name', ''],
    ['an empty list', []],
    [`more than ${MAX_ROOMS_PER_JOIN} rooms`, Array.from({ length: MAX_ROOMS_PER_JOIN + 1 }, (_, i) => `r${i}`)],
    ['a list with a number', [5]],
    ['a list with an empty name', ['fine', '']],
    ['an object', { room: ROOM }],
    ['a number', 42],
  ],
  leaveRoom: [
    ['nothing', undefined],
    ['null', null],
    ['an empty name', ''],
    ['a number', 42],
    ['a list', [ROOM]],
    ['an object', { room: ROOM }],
  ],
  privateMessage: [
    ['nothing', undefined],
    ['an empty object', {}],
    ['no message', { to: 1 }],
    ['no recipient', { message: 'hi' }],
    ['a string recipient', { to: 'bob', message: 'hi' }],
    ['an empty message', { to: 1, message: '' }],
    ['a message over the limit', { to: 1, message: tooLong }],
    ['a numeric message', { to: 1, message: 5 }],
    ['a NUL character', { to: 1, message: '\u0000' }],
  ],
  typing: [
    ['nothing', undefined],
    ['an empty object', {}],
    ['a bare string', ROOM],
    ['an empty room', { room: '' }],
    ['a numeric room', { room: 5 }],
  ],
  stopTyping: [
    ['nothing', undefined],
    ['an empty object', {}],
    ['a numeric room', { room: 5 }],
  ],
  sync: [
    ['nothing', undefined],
    ['no sinceId', { room: ROOM }],
    ['a negative sinceId', { room: ROOM, sinceId: -1 }],
    ['a string sinceId', { room: ROOM, sinceId: '0' }],
    ['a fractional sinceId', { room: ROOM, sinceId: 1.5 }],
    ['limit 0', { room: ROOM, sinceId: 0, limit: 0 }],
    ['limit 501', { room: ROOM, sinceId: 0, limit: 501 }],
  ],
  message: [['nothing', undefined]],
};

const cases = Object.entries(INVALID).flatMap(([event, payloads]) => payloads.map(([name, payload]) => ({ event, name, payload })));

let node: TestBackend;
let alice: Client;
let bob: Client;
beforeAll(async () => {
  // A generous rate limit: this file sends many events quickly on purpose.
  node = await startTestBackend({ RATE_LIMIT_BURST: '10000' });
  [alice, bob] = await Promise.all([registerAndConnect(node.url), registerAndConnect(node.url)]);
  await request(bob.socket, 'join', { room: ROOM });
  await request(alice.socket, 'join', { room: ROOM });
});
afterAll(async () => {
  alice?.socket.close();
  bob?.socket.close();
  await node?.close();
});

const args = (payload: unknown) => (payload === undefined ? [] : [payload]);

describe('invalid payloads', () => {
  it.each(cases)('$event with $name: ack {ok:false, invalid_payload}', async ({ event, payload }) => {
    const ack = await request(alice.socket, event, ...args(payload));
    expect(ack).toEqual({ ok: false, error: { code: 'invalid_payload', message: expect.any(String) } });
  });

  it.each(cases)("$event with $name, no ack: an 'error' event with invalid_payload", async ({ event, payload }) => {
    const error = nextEvent(alice.socket, 'error');
    alice.socket.emit(event, ...args(payload));
    expect(await error).toEqual({ code: 'invalid_payload', message: expect.any(String) });
  });

  it('none of them was broadcast or stored, and the connection is still up', async () => {
    const marker = uniqueName('marker');
    const bobSaw = collectUntil<ChatMessage>(bob.socket, 'message', (m) => m.text === marker);
    const noise = Promise.all(cases.map(({ event, payload }) => request(alice.socket, event, ...args(payload))));
    const ack = await request<{ ok: boolean; id: number }>(alice.socket, 'chatMessage', marker);
    await noise;
    expect(alice.socket.connected).toBe(true);
    expect(ack.ok).toBe(true);
    expect((await bobSaw).map((m) => m.text)).toEqual([marker]);
    const history = await http<{ messages: ChatMessage[] }>(node.url, 'GET', `/rooms/${ROOM}/messages`, { token: bob.token });
    expect(history.body.messages.map((m) => m.text)).toEqual([marker]);
    const [count] = await node.db.query<{ n: string }>('SELECT count(*) AS n FROM messages');
    expect(Number(count?.n)).toBe(1);
  });

  it('an unknown event is ignored and the connection stays up', async () => {
    alice.socket.emit('noSuchEvent', { anything: true });
    expect(await request(alice.socket, 'join', { room: ROOM })).toMatchObject({ ok: true });
  });
});
