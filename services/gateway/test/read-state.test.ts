import { describe, expect, it } from 'vitest';
import type { ChatMessage, ConversationReadState, PrivateMessage, ReadState, ReadStateUpdate } from '@parley/protocol';
import {
  collect,
  collectUntil,
  http,
  nextEvent,
  registerUser,
  request,
  uniqueName,
  within,
  type ClientSocket,
  type Session,
} from '@parley/testkit';
import { useTestBackend } from '@parley/testkit/vitest';

// Read state (issue 14): the server keeps how far each user has read each room and each
// conversation, so reading on one device clears the unread count on every other device of the
// user, on any node. In Redis mode a user's two sockets sit on the two nodes.

/** How long another device may take to hear of a read (issue 14: "within a second"). */
const ELSEWHERE_MS = 1000;

const the = useTestBackend({ RATE_LIMIT_BURST: '500' });
const open = the.open;

interface Device {
  session: Session;
  /** The user's two sockets: on two different nodes when the back-end has two. */
  here: ClientSocket;
  there: ClientSocket;
}

/** Alice on two devices and bob with one socket. */
async function aliceAndBob(): Promise<{ alice: Device; bob: Session; bobSocket: ClientSocket }> {
  const alice = await userOnTwoDevices();
  const bob = await registerUser(the.node.url);
  return { alice, bob, bobSocket: await open(bob) };
}

async function userOnTwoDevices(): Promise<Device> {
  const { node } = the;
  const session = await registerUser(node.url);
  const here = await open(session);
  // The round-robin proxy alternates WebSockets between the nodes.
  const there = await open(session);
  if (node.nodes.length > 1) expect(node.nodeOf(here.id!).config.nodeId).not.toBe(node.nodeOf(there.id!).config.nodeId);
  return { session, here, there };
}

type Ack<T> = { ok: true } & T;
type SendAck = Ack<{ id: number; position: number }>;
type RoomReadAck = Ack<{ room: string; readPosition: number; unread: number }>;
type ConversationReadAck = Ack<{ userId: number; readPosition: number; unread: number }>;

async function say(socket: ClientSocket, room: string, text: string): Promise<number> {
  const ack = await request<SendAck>(socket, 'chatMessage', { room, text });
  expect(ack).toMatchObject({ ok: true });
  return ack.position;
}

async function dm(socket: ClientSocket, to: number, message: string): Promise<SendAck> {
  const ack = await request<SendAck>(socket, 'privateMessage', { to, message });
  expect(ack).toMatchObject({ ok: true });
  return ack;
}

/** Join `room` and wait until the user's cursor exists (the join announces a new one to the user's sockets). */
async function joinListed(socket: ClientSocket, room: string): Promise<ReadStateUpdate> {
  const created = nextEvent<ReadStateUpdate>(socket, 'readState', (u) => u.room === room);
  expect(await request(socket, 'join', { room })).toMatchObject({ ok: true });
  return created;
}

const stateOf = (socket: ClientSocket) => request<Ack<ReadState>>(socket, 'readState');
/** `promise` (an event listened for before the read) must settle within ELSEWHERE_MS from now, the read's answer. */
const soon = <T>(what: string, promise: Promise<T>) => within(`${what} on the other device`, promise, ELSEWHERE_MS);

describe('reading on one device', () => {
  it('clears the unread count on the other device, on the other node, within a second; the reader hears it before its ack', async () => {
    const { alice, bob, bobSocket } = await aliceAndBob();
    const room = uniqueName('room');
    // Alice's join creates her cursor at the room's end: both her devices hear of it.
    const heardThere = nextEvent<ReadStateUpdate>(alice.there, 'readState', (u) => u.room === room);
    expect(await joinListed(alice.here, room)).toEqual({ room, readPosition: 0, unread: 0 });
    expect(await heardThere).toEqual({ room, readPosition: 0, unread: 0 });
    await request(alice.there, 'join', { room });
    await request(bobSocket, 'join', { room });
    for (const text of ['one', 'two', 'three']) await say(bobSocket, room, text);

    // The reader's own copy comes before its ack, the other device's within a second.
    const order: string[] = [];
    const own = () => order.push('event');
    alice.here.on('readState', own);
    const there = nextEvent<ReadStateUpdate>(alice.there, 'readState', (u) => u.room === room);
    const ack = await request<RoomReadAck>(alice.here, 'readRoom', { room, position: 2 });
    order.push('ack');
    alice.here.off('readState', own);
    expect(ack).toEqual({ ok: true, room, readPosition: 2, unread: 1 });
    expect(order).toEqual(['event', 'ack']);
    expect(await soon('readRoom', there)).toEqual({ room, readPosition: 2, unread: 1 });
    expect((await stateOf(alice.there)).rooms).toEqual([{ room, position: 3, readPosition: 2, unread: 1 }]);

    // A conversation: bob writes twice, alice reads the first on one device.
    await dm(bobSocket, alice.session.user.id, 'psst');
    await dm(bobSocket, alice.session.user.id, 'psst again');
    const [conversation] = (await stateOf(alice.here)).conversations;
    expect(conversation).toMatchObject({ user: { id: bob.user.id }, position: 2, readPosition: 0, unread: 2 });
    const thereToo = nextEvent<ReadStateUpdate>(alice.there, 'readState', (u) => u.userId === bob.user.id);
    expect(await request(alice.here, 'readConversation', { userId: bob.user.id, position: 1 })).toEqual({
      ok: true,
      userId: bob.user.id,
      readPosition: 1,
      unread: 1,
    });
    expect(await soon('readConversation', thereToo)).toEqual({ userId: bob.user.id, readPosition: 1, unread: 1 });

    // Forgetting the room takes it off the list on every device.
    const forgotten = nextEvent(alice.there, 'roomForgotten');
    expect(await request(alice.here, 'forgetRoom', { room })).toEqual({ ok: true });
    expect(await soon('roomForgotten', forgotten)).toEqual({ room });
    expect((await stateOf(alice.there)).rooms).toEqual([]);
    // A join puts it back, at the room's end.
    expect(await joinListed(alice.there, room)).toEqual({ room, readPosition: 3, unread: 0 });
  });

  it("another user's reads are not heard", async () => {
    const [alice, bob] = await Promise.all([registerUser(the.node.url), registerUser(the.node.url)]);
    const [aliceSocket, bobSocket] = await Promise.all([open(alice), open(bob)]);
    const room = uniqueName('room');
    const bobHeard = collect<ReadStateUpdate>(bobSocket, 'readState');
    await joinListed(aliceSocket, room);
    await joinListed(bobSocket, room);
    await say(bobSocket, room, 'hello');
    await request(aliceSocket, 'readRoom', { room, position: 1 });
    // Bob's own read is the marker: whatever of alice's reached him would have come before it.
    const marker = nextEvent<ReadStateUpdate>(bobSocket, 'readState', (u) => u.readPosition === 1);
    await request(bobSocket, 'readRoom', { room, position: 1 });
    await marker;
    expect(bobHeard).toEqual([
      { room, readPosition: 0, unread: 0 },
      { room, readPosition: 1, unread: 0 },
    ]);
  });
});

describe('room cursors', () => {
  it('never go backwards, and stop at the end of the room; a read that moves nothing is not announced', async () => {
    const alice = await userOnTwoDevices();
    const bob = await open(await registerUser(the.node.url));
    const room = uniqueName('room');
    await joinListed(alice.here, room);
    await request(alice.there, 'join', { room });
    await request(bob, 'join', { room });
    for (const text of ['1', '2', '3', '4']) await say(bob, room, text);

    const heard = collectUntil<ReadStateUpdate>(alice.there, 'readState', (u) => u.readPosition === 4);
    expect(await request(alice.here, 'readRoom', { room, position: 3 })).toEqual({ ok: true, room, readPosition: 3, unread: 1 });
    // Backwards and in place: answered with where the cursor is, announced to no one.
    expect(await request(alice.here, 'readRoom', { room, position: 1 })).toEqual({ ok: true, room, readPosition: 3, unread: 1 });
    expect(await request(alice.there, 'readRoom', { room, position: 3 })).toEqual({ ok: true, room, readPosition: 3, unread: 1 });
    // Past the end: clamped to the room's last position.
    expect(await request(alice.there, 'readRoom', { room, position: Number.MAX_SAFE_INTEGER })).toEqual({
      ok: true,
      room,
      readPosition: 4,
      unread: 0,
    });
    expect(await heard).toEqual([
      { room, readPosition: 3, unread: 1 },
      { room, readPosition: 4, unread: 0 },
    ]);
    expect((await stateOf(alice.here)).rooms).toEqual([{ room, position: 4, readPosition: 4, unread: 0 }]);
  });

  it("count exactly the others' messages after the cursor, never one's own", async () => {
    const [alice, bob] = await Promise.all([registerUser(the.node.url), registerUser(the.node.url)]);
    const [a, b] = await Promise.all([open(alice), open(bob)]);
    const room = uniqueName('room');
    await joinListed(b, room); // bob's cursor: 0
    await say(b, room, 'before alice'); // 1
    await joinListed(a, room); // alice's cursor: 1
    await say(b, room, 'b2'); // 2
    await say(a, room, 'a3'); // 3
    await say(a, room, 'a4'); // 4
    await say(b, room, 'b5'); // 5
    expect((await stateOf(a)).rooms).toEqual([{ room, position: 5, readPosition: 1, unread: 2 }]);
    expect(await request(a, 'readRoom', { room, position: 3 })).toEqual({ ok: true, room, readPosition: 3, unread: 1 });
    // Bob's cursor stays at 0: alice's two messages count, his own three do not.
    expect(await request(b, 'readRoom', { room, position: 0 })).toEqual({ ok: true, room, readPosition: 0, unread: 2 });
  });

  it('are refused for a room the socket is not in, and for reserved rooms; the connection stays up', async () => {
    const alice = await registerUser(the.node.url);
    const socket = await open(alice);
    const forbidden = { ok: false, error: { code: 'forbidden', message: expect.any(String) } };
    expect(await request(socket, 'readRoom', { room: uniqueName('elsewhere'), position: 1 })).toEqual(forbidden);
    for (const room of ['user:1', 'admin:x', 'system:y', 'A'.repeat(20)]) {
      expect(await request(socket, 'readRoom', { room, position: 1 }), room).toEqual(forbidden);
      expect(await request(socket, 'forgetRoom', { room }), room).toEqual(forbidden);
    }
    expect(await request(socket, 'readConversation', { userId: 2_000_000_000, position: 1 })).toEqual({
      ok: false,
      error: { code: 'not_found', message: expect.any(String) },
    });
    expect(socket.connected).toBe(true);
    expect(await stateOf(socket)).toEqual({ ok: true, rooms: [], conversations: [] });
  });
});

describe('conversations', () => {
  it('list the peers the user exchanged private messages with, the latest first, with the last message and exact unread counts', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(the.node.url), registerUser(the.node.url), registerUser(the.node.url)]);
    const [a, b, c] = await Promise.all([open(alice), open(bob), open(carol)]);
    const toBob = await dm(a, bob.user.id, 'hi bob'); // alice 1
    const fromBob: PrivateMessage[] = [];
    const heard = collectUntil<PrivateMessage>(a, 'privateMessage', (m) => m.message === 'from carol');
    await dm(b, alice.user.id, 'hi alice'); // alice 2
    await dm(b, alice.user.id, 'still there?'); // alice 3
    await dm(c, alice.user.id, 'from carol'); // alice 4
    fromBob.push(...(await heard).filter((m) => m.from === bob.user.id));
    await dm(a, carol.user.id, 'yes carol'); // alice 5

    const { conversations } = await stateOf(a);
    const shape = (cs: ConversationReadState[]) =>
      cs.map((x) => [x.user.username, x.position, x.readPosition, x.unread, x.lastMessage?.message]);
    expect(shape(conversations)).toEqual([
      [carol.user.username, 5, 0, 1, 'yes carol'],
      [bob.user.username, 3, 0, 2, 'still there?'],
    ]);
    expect(conversations[0]?.user).toEqual(carol.user);
    expect(conversations[0]?.lastMessage).toMatchObject({ from: alice.user.id, to: carol.user.id, position: 5 });
    expect(toBob.position).toBe(1);

    // Read up to bob's first message (its position as alice got it): one left.
    expect(await request(a, 'readConversation', { userId: bob.user.id, position: fromBob[0]!.position })).toEqual({
      ok: true,
      userId: bob.user.id,
      readPosition: 2,
      unread: 1,
    });
    // Past alice's stream's end: clamped to it (5).
    expect(await request<ConversationReadAck>(a, 'readConversation', { userId: carol.user.id, position: 99 })).toEqual({
      ok: true,
      userId: carol.user.id,
      readPosition: 5,
      unread: 0,
    });
    expect(shape((await stateOf(a)).conversations)).toEqual([
      [carol.user.username, 5, 5, 0, 'yes carol'],
      [bob.user.username, 3, 2, 1, 'still there?'],
    ]);
    // Bob's side: his own message is not unread for him, alice's is.
    expect(shape((await stateOf(b)).conversations)).toEqual([[alice.user.username, 3, 0, 1, 'still there?']]);
  });
});

describe('GET/PUT/DELETE /me/read-state', () => {
  it('mirror the socket events: the same state, the same answers, every socket of the user told', async () => {
    const { alice, bob, bobSocket } = await aliceAndBob();
    const room = uniqueName('room');
    await joinListed(alice.here, room);
    await request(bobSocket, 'join', { room });
    await say(bobSocket, room, 'one');
    await say(bobSocket, room, 'two');
    await dm(bobSocket, alice.session.user.id, 'hello');
    const token = alice.session.token;

    const viaHttp = await http<ReadState>(the.node.url, 'GET', '/me/read-state', { token });
    expect(viaHttp.status).toBe(200);
    const { ok: _, ...viaSocket } = await stateOf(alice.there);
    expect(viaHttp.body).toEqual(viaSocket);
    expect(viaHttp.body.rooms).toEqual([{ room, position: 2, readPosition: 0, unread: 2 }]);

    const devices = [alice.here, alice.there];
    const both = devices.map((s) => nextEvent<ReadStateUpdate>(s, 'readState', (u) => u.room === room));
    const put = await http(the.node.url, 'PUT', `/me/read-state/rooms/${encodeURIComponent(room)}`, { token, body: { position: 1 } });
    expect(put).toMatchObject({ status: 200, body: { room, readPosition: 1, unread: 1 } });
    expect(await soon('PUT rooms/:room', Promise.all(both))).toEqual(devices.map(() => ({ room, readPosition: 1, unread: 1 })));

    const conversation = devices.map((s) => nextEvent<ReadStateUpdate>(s, 'readState', (u) => u.userId === bob.user.id));
    const putConversation = await http(the.node.url, 'PUT', `/me/read-state/conversations/${bob.user.id}`, {
      token,
      body: { position: 1 },
    });
    expect(putConversation).toMatchObject({ status: 200, body: { userId: bob.user.id, readPosition: 1, unread: 0 } });
    expect(await soon('PUT conversations/:userId', Promise.all(conversation))).toEqual(
      devices.map(() => ({ userId: bob.user.id, readPosition: 1, unread: 0 })),
    );

    const forgotten = devices.map((s) => nextEvent(s, 'roomForgotten'));
    expect((await http(the.node.url, 'DELETE', `/me/read-state/rooms/${encodeURIComponent(room)}`, { token })).status).toBe(204);
    expect(await soon('roomForgotten', Promise.all(forgotten))).toEqual([{ room }, { room }]);
    // Idempotent.
    expect((await http(the.node.url, 'DELETE', `/me/read-state/rooms/${encodeURIComponent(room)}`, { token })).status).toBe(204);
    expect((await http<ReadState>(the.node.url, 'GET', '/me/read-state', { token })).body.rooms).toEqual([]);
    // Over HTTP a room need not be joined (as for its history): the cursor comes back.
    expect(
      await http(the.node.url, 'PUT', `/me/read-state/rooms/${encodeURIComponent(room)}`, { token, body: { position: 99 } }),
    ).toMatchObject({ status: 200, body: { room, readPosition: 2, unread: 0 } });
  });

  it('answer stable codes for bad requests', async () => {
    const alice = await registerUser(the.node.url);
    const token = alice.token;
    const code = async (method: string, path: string, options: object) => {
      const res = await http<{ error: { code: string } }>(the.node.url, method, path, options);
      return [res.status, res.body.error?.code];
    };
    expect(await code('GET', '/me/read-state', {})).toEqual([401, 'unauthorized']);
    expect(await code('PUT', '/me/read-state/rooms/lobby', { body: { position: 1 } })).toEqual([401, 'unauthorized']);
    for (const body of [{}, { position: -1 }, { position: 1.5 }, { position: '1' }, { position: 2 ** 53 }, []]) {
      expect(await code('PUT', '/me/read-state/rooms/lobby', { token, body }), JSON.stringify(body)).toEqual([400, 'invalid_payload']);
      expect(await code('PUT', `/me/read-state/conversations/${alice.user.id}`, { token, body }), JSON.stringify(body)).toEqual([
        400,
        'invalid_payload',
      ]);
    }
    expect(await code('PUT', '/me/read-state/rooms/semi%3Bcolon', { token, body: { position: 1 } })).toEqual([400, 'invalid_payload']);
    expect(await code('PUT', '/me/read-state/conversations/0', { token, body: { position: 1 } })).toEqual([400, 'invalid_payload']);
    expect(await code('PUT', '/me/read-state/conversations/2000000000', { token, body: { position: 1 } })).toEqual([404, 'not_found']);
    expect(await code('PUT', '/me/read-state/rooms/user%3A1', { token, body: { position: 1 } })).toEqual([403, 'forbidden']);
    expect(await code('DELETE', '/me/read-state/rooms/user%3A1', { token })).toEqual([403, 'forbidden']);
  });
});

describe('the list follows the user', () => {
  it('a device that connects later sees the rooms joined and the messages missed elsewhere', async () => {
    const [alice, bob] = await Promise.all([registerUser(the.node.url), registerUser(the.node.url)]);
    const [phone, b] = await Promise.all([open(alice), open(bob)]);
    const rooms = [uniqueName('room'), uniqueName('room')];
    const created = rooms.map((room) => nextEvent<ReadStateUpdate>(phone, 'readState', (u) => u.room === room));
    expect(await request(phone, 'joinRoom', rooms)).toEqual({ ok: true, rooms });
    expect(await Promise.all(created)).toEqual(rooms.map((room) => ({ room, readPosition: 0, unread: 0 })));
    for (const room of rooms) await request(b, 'join', { room });
    const heard = collectUntil<ChatMessage>(phone, 'message', (m) => m.text === 'later');
    await say(b, rooms[0]!, 'first');
    await say(b, rooms[1]!, 'later');
    await heard;
    phone.close();
    const laptop = await open(alice);
    const { rooms: listed } = await stateOf(laptop);
    expect(listed.sort((x, y) => x.room.localeCompare(y.room))).toEqual(
      rooms.sort().map((room) => ({ room, position: 1, readPosition: 0, unread: 1 })),
    );
  });
});
