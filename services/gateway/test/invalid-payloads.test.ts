import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_NAMES, MAX_ROOMS_PER_JOIN, MAX_TEXT_LENGTH, type Announcement, type ChatMessage } from '@parley/protocol';
import {
  collectUntil,
  connect,
  http,
  nextEvent,
  registerAndConnect,
  registerUser,
  request,
  uniqueName,
  type Client,
  type ClientSocket,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

const ROOM = 'lobby';
const tooLong = 'x'.repeat(MAX_TEXT_LENGTH + 1);
/** Stands for bob's user id in a payload (known only once he is registered). */
const WATCHER = Symbol('watcher');

/** Every inbound event of '/' with payloads it must refuse with invalid_payload. */
/** 'refreshToken' (every namespace): payloads that are not `{token: string}` of 1-4096 characters. */
const REFRESH_TOKEN_CASES: [string, unknown][] = [
  ['nothing', undefined],
  ['an empty object', {}],
  ['a bare string', 'a.b.c'],
  ['an empty token', { token: '' }],
  ['a numeric token', { token: 5 }],
  ['a token over 4096 characters', { token: 'x'.repeat(4097) }],
];

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
  // `to: WATCHER` is bob, who watches everything: had one of these got through, he would see it.
  privateMessage: [
    ['nothing', undefined],
    ['an empty object', {}],
    ['no message', { to: WATCHER }],
    ['no recipient', { message: 'hi' }],
    ['a string recipient', { to: 'bob', message: 'hi' }],
    ['an empty message', { to: WATCHER, message: '' }],
    ['a blank message', { to: WATCHER, message: '  ' }],
    ['a message over the limit', { to: WATCHER, message: tooLong }],
    ['a numeric message', { to: WATCHER, message: 5 }],
    ['a NUL character', { to: WATCHER, message: '\u0000' }],
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
    ['no cursor', { room: ROOM, limit: 10 }],
    ['two cursors', { room: ROOM, sinceId: 0, sincePosition: 0 }],
    ['a fractional sincePosition', { room: ROOM, sincePosition: 0.5 }],
    ['limit 501', { room: ROOM, sinceId: 0, limit: 501 }],
  ],
  syncPrivate: [
    ['nothing', undefined],
    ['no sinceId', {}],
    ['a negative sinceId', { sinceId: -1 }],
    ['a string sinceId', { sinceId: '0' }],
    ['a fractional sinceId', { sinceId: 1.5 }],
    ['no cursor', { limit: 10 }],
    ['two cursors', { sinceId: 0, sincePosition: 0 }],
    ['negative position', { sincePosition: -1 }],
    ['limit 501', { sinceId: 0, limit: 501 }],
    ['a bare number', 0],
  ],
  readRoom: [
    ['nothing', undefined],
    ['a bare string', ROOM],
    ['no position', { room: ROOM }],
    ['no room', { position: 1 }],
    ['a negative position', { room: ROOM, position: -1 }],
    ['a fractional position', { room: ROOM, position: 1.5 }],
    ['a string position', { room: ROOM, position: '1' }],
    ['a position past 2^53', { room: ROOM, position: 2 ** 53 }],
    ['a room with bad characters', { room: 'semi;colon', position: 1 }],
  ],
  readConversation: [
    ['nothing', undefined],
    ['no position', { userId: 1 }],
    ['no userId', { position: 1 }],
    ['a string userId', { userId: 'bob', position: 1 }],
    ['userId 0', { userId: 0, position: 1 }],
    ['a userId beyond the id range', { userId: 2 ** 31, position: 1 }],
    ['a negative position', { userId: 1, position: -1 }],
    ['a fractional position', { userId: 1, position: 0.5 }],
  ],
  forgetRoom: [
    ['nothing', undefined],
    ['a bare string', ROOM],
    ['an empty room', { room: '' }],
    ['a numeric room', { room: 5 }],
  ],
  refreshToken: REFRESH_TOKEN_CASES,
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
  // Bob hears alice arrive now, not while a test watches what he hears.
  const arrived = nextEvent<ChatMessage>(bob.socket, 'message', (m) => m.text === `${alice.user.username} has joined`);
  await request(alice.socket, 'join', { room: ROOM });
  await arrived;
});
afterAll(async () => {
  alice?.socket.close();
  bob?.socket.close();
  await node?.close();
});

/** The emit arguments for `payload`, with WATCHER replaced by bob's id. */
function args(payload: unknown): unknown[] {
  if (payload === undefined) return [];
  if (payload !== null && typeof payload === 'object' && 'to' in payload && payload.to === WATCHER)
    return [{ ...payload, to: bob.user.id }];
  return [payload];
}

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

  it('none of them was broadcast or stored, with or without an ack, and the connection is still up', async () => {
    // Everything either socket hears until the marker: a payload that got through would show
    // up as message / newMessage / broadcast / typing / stopTyping / privateMessage / roomUsers...
    const heard = { alice: [] as [string, unknown][], bob: [] as [string, unknown][] };
    const recorders = {
      alice: (event: string, value: unknown) => heard.alice.push([event, value]),
      bob: (event: string, value: unknown) => heard.bob.push([event, value]),
    };
    alice.socket.onAny(recorders.alice);
    bob.socket.onAny(recorders.bob);
    const marker = uniqueName('marker');
    const bobGotMarker = nextEvent<ChatMessage>(bob.socket, 'message', (m) => m.text === marker);
    const acks = await Promise.all(cases.map(({ event, payload }) => request(alice.socket, event, ...args(payload))));
    for (const { event, payload } of cases) alice.socket.emit(event, ...args(payload));
    const ack = await request<{ ok: boolean; id: number }>(alice.socket, 'chatMessage', marker);
    await bobGotMarker;
    alice.socket.offAny(recorders.alice);
    bob.socket.offAny(recorders.bob);

    expect(acks).toEqual(cases.map(() => ({ ok: false, error: { code: 'invalid_payload', message: expect.any(String) } })));
    expect(ack).toEqual({ ok: true, id: expect.any(Number), position: expect.any(Number) });
    expect(alice.socket.connected).toBe(true);
    const markerMessage = ['message', expect.objectContaining({ id: ack.id, text: marker })];
    expect(heard.bob).toEqual([markerMessage]);
    // Alice: one 'error' per payload sent without an ack, then her own marker.
    expect(heard.alice).toEqual([...cases.map(() => ['error', { code: 'invalid_payload', message: expect.any(String) }]), markerMessage]);

    const history = await http<{ messages: ChatMessage[] }>(node.url, 'GET', `/rooms/${ROOM}/messages`, { token: bob.token });
    expect(history.body.messages.map((m) => m.text)).toEqual([marker]);
    // Room and private messages alike: the marker is the only row this file ever stored.
    const [count] = await node.db.query<{ n: string }>('SELECT count(*) AS n FROM messages');
    expect(Number(count?.n)).toBe(1);
  });

  it('an unknown event is ignored and the connection stays up', async () => {
    alice.socket.emit('noSuchEvent', { anything: true });
    expect(await request(alice.socket, 'join', { room: ROOM })).toMatchObject({ ok: true });
  });
});

/** The inbound events of the other namespaces that validate their payload, with payloads they must refuse. */
const OTHER_NAMESPACES: Record<'/user' | '/notifications' | '/admin', Record<string, [string, unknown][]>> = {
  '/user': { refreshToken: REFRESH_TOKEN_CASES },
  '/notifications': {
    refreshToken: REFRESH_TOKEN_CASES,
    markRead: [
      ['nothing', undefined],
      ['null', null],
      ['an empty object', {}],
      ['no ids', { ids: [] }],
      ['501 ids', { ids: Array.from({ length: 501 }, (_, i) => i + 1) }],
      ['a string of ids', { ids: 'nope' }],
      ['a string id', { ids: ['1'] }],
      ['id 0', { ids: [0] }],
      ['a fractional id', { ids: [1.5] }],
      ['all: false', { all: false }],
      ['all: "true"', { all: 'true' }],
      ['a bare array', [1]],
    ],
  },
  '/admin': {
    refreshToken: REFRESH_TOKEN_CASES,
    announce: [
      ['nothing', undefined],
      ['an empty object', {}],
      ['a bare string', 'text'],
      ['an empty text', { text: '' }],
      ['a blank text', { text: '   ' }],
      ['a text over the limit', { text: tooLong }],
      ['a numeric text', { text: 5 }],
      ['a NUL character', { text: 'a\u0000b' }],
    ],
    disconnectUser: [
      ['nothing', undefined],
      ['an empty object', {}],
      ['a string id', { userId: 'x' }],
      ['id 0', { userId: 0 }],
      ['a negative id', { userId: -1 }],
      ['a fractional id', { userId: 1.5 }],
      ['an id beyond the id range', { userId: 2 ** 31 }],
      ['a bare number', 1],
    ],
    listRooms: [
      ['nothing', undefined],
      ['a bare string', 'list'],
      ['limit 0', { limit: 0 }],
      ['limit 201', { limit: 201 }],
      ['a fractional limit', { limit: 1.5 }],
      ['a string limit', { limit: '5' }],
      ['an empty after', { after: '' }],
      ['an after over 64 characters', { after: 'x'.repeat(65) }],
      ['a numeric after', { after: 5 }],
    ],
  },
};
/** Inbound events that take any payload (or none), so have nothing to refuse. */
const ANY_PAYLOAD = { '/': ['readState'], '/user': ['whoami'], '/admin': ['stats'] } as Record<string, string[]>;

const otherCases = Object.entries(OTHER_NAMESPACES).flatMap(([namespace, events]) =>
  Object.entries(events).flatMap(([event, payloads]) => payloads.map(([name, payload]) => ({ namespace, event, name, payload }))),
);

describe('every inbound event of every namespace', () => {
  it('has invalid payloads in this file, or is one that takes any payload', () => {
    const covered = (namespace: string): string[] =>
      [
        ...Object.keys(namespace === '/' ? INVALID : (OTHER_NAMESPACES[namespace as keyof typeof OTHER_NAMESPACES] ?? {})),
        ...(ANY_PAYLOAD[namespace] ?? []),
      ].sort();
    for (const [namespace, events] of Object.entries(EVENT_NAMES)) {
      expect(covered(namespace), namespace).toEqual([...events.clientToServer].sort());
    }
  });
});

describe('invalid payloads on /user, /notifications and /admin', () => {
  let user: ClientSocket;
  let notifications: ClientSocket;
  let admin: ClientSocket;
  beforeAll(async () => {
    // Made an admin in the database: the stored role counts, not the token's.
    const root = await registerUser(node.url);
    await node.db.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [root.user.id]);
    admin = await connect(node.url, '/admin', root.token);
    notifications = await connect(node.url, '/notifications', bob.token);
    user = await connect(node.url, '/user', bob.token);
  });
  afterAll(() => {
    user?.close();
    admin?.close();
    notifications?.close();
  });
  const socketFor = (namespace: string) => ({ '/admin': admin, '/user': user })[namespace] ?? notifications;

  it.each(otherCases)('$namespace $event with $name: ack {ok:false, invalid_payload}', async ({ namespace, event, payload }) => {
    expect(await request(socketFor(namespace), event, ...args(payload))).toEqual({
      ok: false,
      error: { code: 'invalid_payload', message: expect.any(String) },
    });
  });

  it.each(otherCases)(
    "$namespace $event with $name, no ack: an 'error' event with invalid_payload",
    async ({ namespace, event, payload }) => {
      const socket = socketFor(namespace);
      const error = nextEvent(socket, 'error');
      socket.emit(event, ...args(payload));
      expect(await error).toEqual({ code: 'invalid_payload', message: expect.any(String) });
    },
  );

  it('none of them announced, disconnected or marked anything', async () => {
    const [unread] = await node.db.query<{ id: string }>(
      `INSERT INTO notifications (recipient_id, type, message) VALUES ($1, 'system', 'keep me unread') RETURNING id`,
      [bob.user.id],
    );
    const marker = uniqueName('announce');
    const announced = collectUntil<Announcement>(bob.socket, 'announcement', (a) => a.text === marker);
    await Promise.all(otherCases.map(({ namespace, event, payload }) => request(socketFor(namespace), event, ...args(payload))));
    expect(await request(admin, 'announce', { text: marker })).toEqual({ ok: true });
    expect((await announced).map((a) => a.text)).toEqual([marker]);
    expect([alice.socket.connected, bob.socket.connected, user.connected, notifications.connected, admin.connected]).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    const [row] = await node.db.query<{ read_at: unknown }>('SELECT read_at FROM notifications WHERE id = $1', [unread!.id]);
    expect(row).toEqual({ read_at: null });
  });
});
