import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MAX_ROOMS_PER_JOIN,
  MAX_ROOMS_PER_SOCKET,
  type ChatMessage,
  type PrivateMessage,
  type RoomUsers,
  type SystemMessage,
} from '@parley/protocol';
import {
  collectUntil,
  connect,
  nextEvent,
  registerAndConnect,
  request,
  simulateRoomMembers,
  uniqueName,
  type Client,
  type ClientSocket,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

type Msg = ChatMessage | SystemMessage;

let node: TestBackend;
beforeAll(async () => {
  // Debug logs for 'socket left its rooms' (kept in memory for nextLog, not printed).
  // Rooms of more than 3 users are "big" here (coalesced presence), and roomUsers lists at most 5.
  node = await startTestBackend({
    RATE_LIMIT_BURST: '200',
    LOG_LEVEL: 'debug',
    ROOM_USERS_MAX: '5',
    ROOM_COALESCE_ABOVE: '3',
    ROOM_COALESCE_MS: '1000',
  });
});
afterAll(() => node?.close());

/**
 * `from` sends a marker chat message to `room`; resolves with the texts of every 'message'
 * `watcher` got from now until that marker (the marker last). Proves what did not arrive.
 */
async function messagesUntilMarker(watcher: ClientSocket, from: ClientSocket, room: string): Promise<string[]> {
  const marker = uniqueName('marker');
  const seen = collectUntil<Msg>(watcher, 'message', (m) => m.text === marker);
  expect(await request(from, 'chatMessage', { room, text: marker })).toMatchObject({ ok: true });
  const texts = (await seen).map((m) => m.text);
  expect(texts.pop()).toBe(marker);
  return texts;
}

/**
 * `joiner` joins `room` and `watcher` (already there) has seen it arrive: the "has joined" and
 * the roomUsers after it (from another node they may come in separate reads; a roomUsers
 * awaited next must not be this one).
 */
async function joinSeenBy(joiner: ClientSocket, watcher: ClientSocket, room: string): Promise<void> {
  const seen = nextEvent<Msg>(watcher, 'message', (m) => m.text.endsWith('has joined'));
  const listed = nextEvent<RoomUsers>(watcher, 'roomUsers', users(room));
  expect(await request(joiner, 'join', { room })).toMatchObject({ ok: true });
  await Promise.all([seen, listed]);
}

const users = (room: string) => (u: RoomUsers) => u.room === room;

describe('join', () => {
  it('welcomes the sender, tells the others who joined (the authenticated name), sends roomUsers to all', async () => {
    const room = uniqueName('room');
    const bob = await registerAndConnect(node.url);
    await request(bob.socket, 'join', { room });
    const alice = await registerAndConnect(node.url);

    const aliceMessages = collectUntil<Msg>(alice.socket, 'message', (m) => m.text.startsWith('Welcome'));
    const bobSees = nextEvent<Msg>(bob.socket, 'message');
    const bobUsers = nextEvent(bob.socket, 'roomUsers', users(room));
    const aliceUsers = nextEvent(alice.socket, 'roomUsers', users(room));
    const ack = await request(alice.socket, 'join', { room, username: 'mallory' });

    expect(ack).toEqual({ ok: true, room, users: [bob.user.username, alice.user.username], count: 2 });
    expect(await aliceMessages).toEqual([{ username: 'System', text: `Welcome to ${room}!`, timestamp: expect.any(String), room }]);
    expect(await bobSees).toEqual({ username: 'System', text: `${alice.user.username} has joined`, timestamp: expect.any(String), room });
    for (const got of [await bobUsers, await aliceUsers])
      expect(got).toEqual({ room, users: [bob.user.username, alice.user.username], count: 2 });

    // The sender never hears about its own arrival.
    expect(await messagesUntilMarker(alice.socket, bob.socket, room)).toEqual([]);
    bob.socket.close();
    alice.socket.close();
  });

  it('lists a user with two sockets once and announces only the first socket', async () => {
    const room = uniqueName('room');
    const bob = await registerAndConnect(node.url);
    await request(bob.socket, 'join', { room });
    const alice = await registerAndConnect(node.url);
    await joinSeenBy(alice.socket, bob.socket, room);

    const second = await connect(node.url, '/', alice.token);
    const bobMessages = collectUntil<Msg>(bob.socket, 'message', (m) => m.text.startsWith('marker_'));
    const secondUsers = nextEvent(second, 'roomUsers', users(room));
    const ack = await request(second, 'join', { room });
    expect(ack).toMatchObject({ ok: true, users: [bob.user.username, alice.user.username] });
    expect(await secondUsers).toEqual({ room, users: [bob.user.username, alice.user.username], count: 2 });
    expect(await messagesUntilMarker(bob.socket, alice.socket, room)).toEqual([]);
    expect(await bobMessages).toHaveLength(1);

    // Leaving: only the user's last socket makes it "leave". The node logs 'socket left its
    // rooms' once it has left them and announced (or not) each leave: only then is the marker
    // proof that no "has left" follows (with two nodes, the disconnect event alone comes first).
    const firstId = alice.socket.id!;
    const firstLeft = node
      .nodeOf(firstId)
      .nextLog('the first socket left its rooms', (e) => e.msg === 'socket left its rooms' && e.socketId === firstId);
    alice.socket.close();
    await firstLeft;
    expect(await messagesUntilMarker(bob.socket, second, room)).toEqual([]);

    const left = nextEvent<Msg>(bob.socket, 'message');
    const after = nextEvent(bob.socket, 'roomUsers', users(room));
    second.close();
    expect(await left).toEqual({ username: 'System', text: `${alice.user.username} has left`, timestamp: expect.any(String), room });
    expect(await after).toEqual({ room, users: [bob.user.username], count: 1 });
    bob.socket.close();
  });
});

describe('order', () => {
  // With the Redis adapter a room broadcast reaches even this node's sockets only after the
  // publish round trip; the sender's own copy must still come before its ack, as on one node.
  it('the sender gets its own events of join, joinRoom, chatMessage and message before the ack', async () => {
    const alice = await registerAndConnect(node.url);
    const seen: string[] = [];
    for (const event of ['message', 'roomUsers', 'userJoined', 'response', 'broadcast']) alice.socket.on(event, () => seen.push(event));
    const sent = async (event: string, payload: unknown) => {
      seen.length = 0;
      expect(await request(alice.socket, event, payload)).toMatchObject({ ok: true });
      return [...seen, 'ack'];
    };
    expect(await sent('join', { room: uniqueName('room') })).toEqual(['message', 'roomUsers', 'ack']);
    expect(await sent('joinRoom', uniqueName('room'))).toEqual(['userJoined', 'roomUsers', 'ack']);
    expect(await sent('chatMessage', 'hello')).toEqual(['message', 'ack']);
    expect(await sent('message', 'lesson')).toEqual(['response', 'broadcast', 'ack']);
    alice.socket.close();
  });
});

describe('joinRoom / leaveRoom', () => {
  it('joins one room by name: the room gets userJoined (socket id) and roomUsers', async () => {
    const room = uniqueName('room');
    const bob = await registerAndConnect(node.url);
    await request(bob.socket, 'joinRoom', room);
    const alice = await registerAndConnect(node.url);
    const joined = nextEvent(bob.socket, 'userJoined');
    const roomUsers = nextEvent(bob.socket, 'roomUsers', users(room));
    expect(await request(alice.socket, 'joinRoom', room)).toEqual({ ok: true, rooms: [room] });
    expect(await joined).toBe(alice.socket.id);
    expect(await roomUsers).toEqual({ room, users: [bob.user.username, alice.user.username], count: 2 });

    // Joining again changes nothing: no second userJoined (the next one bob sees is carol's).
    const carol = await registerAndConnect(node.url);
    const next = nextEvent(bob.socket, 'userJoined');
    expect(await request(alice.socket, 'joinRoom', [room])).toEqual({ ok: true, rooms: [room] });
    await request(carol.socket, 'joinRoom', room);
    expect(await next).toBe(carol.socket.id);
    bob.socket.close();
    alice.socket.close();
    carol.socket.close();
  });

  it('joins a list of rooms, where chat then works', async () => {
    const rooms = [uniqueName('r'), uniqueName('r'), uniqueName('r')];
    const alice = await registerAndConnect(node.url);
    expect(await request(alice.socket, 'joinRoom', [...rooms, rooms[0]])).toEqual({ ok: true, rooms });
    for (const room of rooms) {
      expect(await request(alice.socket, 'chatMessage', { room, text: 'hi' })).toMatchObject({ ok: true });
    }
    alice.socket.close();
  });

  it('joins all or none: one reserved room in the list and nothing is joined', async () => {
    const room = uniqueName('r');
    const alice = await registerAndConnect(node.url);
    const ack = await request(alice.socket, 'joinRoom', [room, `user:${alice.user.id}`]);
    expect(ack).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(alice.socket, 'chatMessage', { room, text: 'hi' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    alice.socket.close();
  });

  it(`caps a connection at ${MAX_ROOMS_PER_SOCKET} rooms, all or none`, async () => {
    const alice = await registerAndConnect(node.url);
    const names = Array.from({ length: MAX_ROOMS_PER_SOCKET }, (_, i) => `cap-${alice.user.id}-${i}`);
    for (let i = 0; i < MAX_ROOMS_PER_SOCKET - 3; i += MAX_ROOMS_PER_JOIN) {
      const chunk = names.slice(i, Math.min(i + MAX_ROOMS_PER_JOIN, MAX_ROOMS_PER_SOCKET - 3));
      expect(await request(alice.socket, 'joinRoom', chunk)).toMatchObject({ ok: true });
    }
    // 47 rooms: 5 more would pass the cap, so none of them is joined.
    const extra = ['x1', 'x2', 'x3', 'x4', 'x5'].map((s) => `${s}-${alice.user.id}`);
    expect(await request(alice.socket, 'joinRoom', extra)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await request(alice.socket, 'chatMessage', { room: extra[0], text: 'hi' })).toMatchObject({ error: { code: 'forbidden' } });
    // Rejoining rooms it is in costs nothing; the last 3 fit exactly.
    expect(await request(alice.socket, 'joinRoom', names.slice(0, 3))).toMatchObject({ ok: true });
    expect(await request(alice.socket, 'joinRoom', names.slice(-3))).toMatchObject({ ok: true });
    expect(await request(alice.socket, 'join', { room: extra[0] })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Leaving one makes room for one.
    await request(alice.socket, 'leaveRoom', names[0]);
    expect(await request(alice.socket, 'join', { room: extra[0] })).toMatchObject({ ok: true });
    alice.socket.close();
  });

  it('leaveRoom: the others get "has left" and roomUsers; the leaver can no longer chat there', async () => {
    const room = uniqueName('room');
    const bob = await registerAndConnect(node.url);
    const alice = await registerAndConnect(node.url);
    await request(bob.socket, 'join', { room });
    await joinSeenBy(alice.socket, bob.socket, room);
    const left = nextEvent<Msg>(bob.socket, 'message');
    const roomUsers = nextEvent(bob.socket, 'roomUsers', users(room));
    expect(await request(alice.socket, 'leaveRoom', room)).toEqual({ ok: true });
    expect(await left).toMatchObject({ username: 'System', text: `${alice.user.username} has left` });
    expect(await roomUsers).toEqual({ room, users: [bob.user.username], count: 1 });
    expect(await request(alice.socket, 'chatMessage', 'still here?')).toMatchObject({ ok: false, error: { code: 'invalid_payload' } });
    expect(await request(alice.socket, 'chatMessage', { room, text: 'hi' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Leaving a room one is not in is a no-op.
    expect(await request(alice.socket, 'leaveRoom', room)).toEqual({ ok: true });
    bob.socket.close();
    alice.socket.close();
  });

  it('disconnect announces "has left" and roomUsers in every room of the user', async () => {
    const rooms = [uniqueName('r'), uniqueName('r')];
    const bob = await registerAndConnect(node.url);
    const alice = await registerAndConnect(node.url);
    await request(bob.socket, 'joinRoom', rooms);
    await request(alice.socket, 'joinRoom', rooms);
    let left = 0;
    const leaves = collectUntil<Msg>(bob.socket, 'message', (m) => m.text === `${alice.user.username} has left` && ++left === rooms.length);
    const onlyBob = rooms.map((room) => nextEvent<RoomUsers>(bob.socket, 'roomUsers', (u) => u.room === room && u.users.length === 1));
    alice.socket.close();
    expect((await leaves).map((m) => m.text)).toEqual(rooms.map(() => `${alice.user.username} has left`));
    expect(await Promise.all(onlyBob)).toEqual(rooms.map((room) => ({ room, users: [bob.user.username], count: 1 })));
    bob.socket.close();
  });
});

describe('reserved rooms', () => {
  let alice: Client;
  let bob: Client;
  beforeAll(async () => {
    alice = await registerAndConnect(node.url);
    bob = await registerAndConnect(node.url);
  });
  afterAll(() => {
    alice.socket.close();
    bob.socket.close();
  });

  const reserved = () => [
    `user:${alice.user.id}`,
    `user:${bob.user.id}`,
    'node:anything',
    'admin:ops',
    'system:x',
    bob.socket.id!,
    alice.socket.id!,
    'AbCdEfGhIjKlMnOpQr_-',
  ];

  it('cannot be joined, in any form, and nothing is joined', async () => {
    for (const room of reserved()) {
      for (const [event, payload] of [
        ['join', { room }],
        ['joinRoom', room],
        ['joinRoom', [room]],
      ] as const) {
        const ack = await request(alice.socket, event, payload);
        expect(ack, `${event} ${room}`).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      }
    }
  });

  it('cannot be chatted, typed, synced or left in', async () => {
    for (const room of reserved()) {
      expect(await request(alice.socket, 'chatMessage', { room, text: 'x' }), room).toMatchObject({ error: { code: 'forbidden' } });
      expect(await request(alice.socket, 'typing', { room }), room).toMatchObject({ error: { code: 'forbidden' } });
      expect(await request(alice.socket, 'sync', { room, sinceId: 0 }), room).toMatchObject({ error: { code: 'forbidden' } });
      expect(await request(alice.socket, 'leaveRoom', room), room).toMatchObject({ error: { code: 'forbidden' } });
    }
  });

  it("another socket's id-room cannot be entered: its owner hears nothing of the attempts and still reaches the intruder", async () => {
    // Every socket is in the room named after its id, and Socket.IO leaves that room out of
    // the socket's own broadcasts. Had alice got into bob's, bob would hear userJoined /
    // roomUsers / chat / typing addressed to it, and bob's private messages and broadcasts
    // (which leave out his own room) would leave alice out too.
    const target = bob.socket.id!;
    const bobHeard: string[] = [];
    const record = (event: string) => bobHeard.push(event);
    bob.socket.onAny(record);
    const marker = uniqueName('marker');
    const bobGotMarker = nextEvent<PrivateMessage>(bob.socket, 'privateMessage', (m) => m.message === marker);
    for (const [event, payload] of [
      ['joinRoom', target],
      ['joinRoom', [target]],
      ['join', { room: target }],
      ['chatMessage', { room: target, text: 'psst' }],
      ['typing', { room: target }],
      ['stopTyping', { room: target }],
    ] as const) {
      expect(await request(alice.socket, event, payload), event).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    expect(await request(alice.socket, 'privateMessage', { to: bob.user.id, message: marker })).toMatchObject({ ok: true });
    await bobGotMarker;
    bob.socket.offAny(record);
    expect(bobHeard).toEqual(['privateMessage']);

    const reply = uniqueName('reply');
    const privately = nextEvent<PrivateMessage>(alice.socket, 'privateMessage', (m) => m.message === reply);
    const relayed = nextEvent(alice.socket, 'newMessage', (data) => data === reply);
    expect(await request(bob.socket, 'privateMessage', { to: alice.user.id, message: reply })).toMatchObject({ ok: true });
    bob.socket.emit('message', reply);
    await Promise.all([privately, relayed]);
  });
});

/**
 * Fill `room` with `count` users who have no socket: through the node's own presence on the
 * memory back-end, straight in Redis on the Redis one.
 */
async function simulateMembers(room: string, count: number): Promise<string[]> {
  if (node.backend !== 'memory') return simulateRoomMembers(node.config.redis, { keyPrefix: node.config.redis.keyPrefix, room, count });
  const names = Array.from({ length: count }, (_, i) => `sim${i}`);
  for (const [i, username] of names.entries())
    await node.app.presence.join(room, { socketId: `sim-${i}`, userId: 1_000_000 + i, username });
  // Take the summary of these arrivals (nobody is there to hear it), in a window of 0 ms.
  await node.app.presence.flush(room, 0);
  return names;
}

describe('big rooms', () => {
  it('a room of 10,000 users: join, roomUsers and leave work; users are the first ROOM_USERS_MAX arrivals, count is exact', async () => {
    const room = uniqueName('huge');
    const sims = await simulateMembers(room, 10_000);
    const [alice, bob] = await Promise.all([registerAndConnect(node.url), registerAndConnect(node.url)]);
    const first5 = sims.slice(0, 5);
    let lists = 0;
    // Alice's own list (before her ack), the room's at once (her arrival made it change), and
    // one for bob's arrival and departure together, at the end of the window.
    const aliceLists = collectUntil<RoomUsers>(alice.socket, 'roomUsers', (u) => u.room === room && ++lists === 3);
    const aliceHeard = collectUntil<Msg>(alice.socket, 'message', (m) => m.text === '1 user joined, 1 left');
    expect(await request(alice.socket, 'join', { room })).toEqual({ ok: true, room, users: first5, count: 10_001 });
    expect(await request(bob.socket, 'join', { room })).toEqual({ ok: true, room, users: first5, count: 10_002 });
    expect(await request(bob.socket, 'leaveRoom', room)).toEqual({ ok: true });
    expect(await aliceLists).toEqual([1, 2, 3].map(() => ({ room, users: first5, count: 10_001 })));
    expect((await aliceHeard).map((m) => m.text)).toEqual([`Welcome to ${room}!`, '1 user joined', '1 user joined, 1 left']);
    alice.socket.close();
    bob.socket.close();
  });

  it('coalesces roomUsers and announcements: at once when the room turns big, then at most one per window', async () => {
    const room = uniqueName('big');
    const [bob, ...others] = (await Promise.all(Array.from({ length: 8 }, () => registerAndConnect(node.url)))) as [Client, ...Client[]];
    const early = others.slice(0, 2);
    const late = others.slice(2);
    const names = [bob, ...others].map((c) => c.user.username);
    await request(bob.socket, 'join', { room });
    // Up to 3 users the room is small: each arrival is announced at once, as before.
    for (const c of early) await joinSeenBy(c.socket, bob.socket, room);

    const lists = collectUntil<RoomUsers>(bob.socket, 'roomUsers', (u) => u.room === room && u.count === 2);
    const heard = collectUntil<Msg>(bob.socket, 'message', (m) => m.text === `${early[1]!.user.username} has left`);
    // 5 arrivals: the first makes the room big and goes out at once; the other 4, within its
    // window, together when the window ends.
    const joined = nextEvent<RoomUsers>(bob.socket, 'roomUsers', (u) => u.room === room && u.count === 8);
    for (const [i, c] of late.entries()) {
      const count = 4 + i;
      expect(await request(c.socket, 'join', { room })).toEqual({ ok: true, room, users: names.slice(0, Math.min(5, count)), count });
    }
    await joined;
    // 5 departures within the next window (the room had more than 3 users before each): one
    // summary when it ends. Then the room is small again: a departure is announced at once.
    const departed = nextEvent<RoomUsers>(bob.socket, 'roomUsers', (u) => u.room === room && u.count === 3);
    for (const c of late) expect(await request(c.socket, 'leaveRoom', room)).toEqual({ ok: true });
    await departed;
    expect(await request(early[1]!.socket, 'leaveRoom', room)).toEqual({ ok: true });

    expect(await lists).toEqual([
      { room, users: names.slice(0, 4), count: 4 },
      { room, users: names.slice(0, 5), count: 8 },
      { room, users: names.slice(0, 3), count: 3 },
      { room, users: names.slice(0, 2), count: 2 },
    ]);
    expect((await heard).map((m) => m.text)).toEqual([
      '1 user joined',
      '4 users joined',
      '5 users left',
      `${early[1]!.user.username} has left`,
    ]);
    for (const c of [bob, ...others]) c.socket.close();
  });
});
