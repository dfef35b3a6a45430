import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ParleyClient, ParleyClientError } from '@parley/client';
import type { ChatMessage, ReadStateUpdate } from '@parley/protocol';
import {
  collectUntil,
  connect,
  createTestDatabase,
  http,
  registerUser,
  request,
  startNode,
  uniqueName,
  within,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

let db: TestDatabase;
let node: TestNode;
const clients: ParleyClient[] = [];
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  node = await startNode({ DATABASE_URL: db.url });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await node?.close();
  await db?.drop();
});

function client(token: string): ParleyClient {
  const c = new ParleyClient({ url: node.url, token, socket: { transports: ['websocket'] } });
  clients.push(c);
  return c;
}

describe('@parley/client', () => {
  it('joins, sends and hands each message over once', async () => {
    const room = uniqueName('room');
    const { token, user } = await registerUser(node.url);
    const c = client(token);
    const got: ChatMessage[] = [];
    c.onMessage((m) => got.push(m));
    await c.connected();
    expect(await c.join(room)).toMatchObject({ room, users: [user.username] });
    const id = await c.send(room, 'hello');
    await expect(c.send(room, ' ')).rejects.toBeInstanceOf(ParleyClientError);
    await c.send(room, 'marker');
    expect(got.map((m) => m.text)).toEqual(['hello', 'marker']);
    expect(c.position(room)).toBe(got.at(-1)?.position);
    expect(got[0]?.id).toBe(id);
  });

  it('after a reconnection rejoins, catches up with sync from the last id, without duplicates', async () => {
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const c = client(a.token);
    const got: number[] = [];
    c.onMessage((m) => got.push(m.id));
    await c.connected();
    await c.join(room);
    const other = await connect(node.url, '/', b.token);
    await request(other, 'join', { room });
    const before = await request<{ id: number }>(other, 'chatMessage', { room, text: 'seen live' });

    // Everything the client will do is awaited from listeners attached before it can happen:
    // a fast reconnection may finish before the missed messages are even sent.
    const gone = within('the client to see its connection drop', new Promise((resolve) => c.socket.once('disconnect', resolve)));
    const resynced = within('onResync after the reconnection', new Promise<void>((resolve) => c.onResync(resolve)), 10_000);
    const liveAgain = within(
      '"live again" through onMessage',
      new Promise<void>((resolve) => c.onMessage((m) => m.text === 'live again' && resolve())),
      10_000,
    );

    // Drop the connection (as when a node dies) and talk while the client is away.
    c.socket.io.engine.close();
    await gone;
    const missed: number[] = [];
    for (const text of ['missed 1', 'missed 2', 'missed 3'])
      missed.push((await request<{ id: number }>(other, 'chatMessage', { room, text })).id);
    await resynced;
    const after = await request<{ id: number }>(other, 'chatMessage', { room, text: 'live again' });
    await liveAgain;
    expect(got).toEqual([before.id, ...missed, after.id]);
    other.close();
  });
});

describe('@parley/client sends survive a lost ack', () => {
  it('a send whose ack was lost with the connection is retried with its clientId: stored and delivered once, resolved with its id', async () => {
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const c = new ParleyClient({ url: node.url, token: a.token, socket: { transports: ['websocket'] }, ackTimeoutMs: 2000 });
    clients.push(c);
    await c.connected();
    await c.join(room);
    const other = await connect(node.url, '/', b.token);
    await request(other, 'join', { room });
    const heard = collectUntil<ChatMessage>(other, 'message', (m) => m.text === 'marker');

    // The message leaves, then the connection drops before its ack can come back.
    const sent = c.send(room, 'exactly once');
    c.socket.io.engine.close();
    const id = await within('the send to resolve after the reconnection', sent, 15_000);

    await request(other, 'chatMessage', { room, text: 'marker' });
    expect((await heard).filter((m) => m.text === 'exactly once').map((m) => m.id)).toEqual([id]);
    const history = await http<{ messages: ChatMessage[] }>(node.url, 'GET', `/rooms/${room}/messages`, { token: b.token });
    expect(history.body.messages.filter((m) => m.text === 'exactly once').map((m) => m.id)).toEqual([id]);
    other.close();
  });

  it('a refusal is not retried', async () => {
    const c = client((await registerUser(node.url)).token);
    await c.connected();
    await expect(c.send(uniqueName('not_joined'), 'hello')).rejects.toMatchObject({ code: 'forbidden' });
  });
});

describe('@parley/client private messages', () => {
  it('hands each private message over once, and after a reconnection catches up with syncPrivate', async () => {
    const [a, b] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const c = client(a.token);
    const got: number[] = [];
    c.onPrivateMessage((m) => got.push(m.id));
    await c.connected();
    const other = await connect(node.url, '/', b.token);
    const live = await request<{ id: number }>(other, 'privateMessage', { to: a.user.id, message: 'live' });
    const sent = await c.sendPrivate(b.user.id, 'from the client');

    const gone = within('the client to see its connection drop', new Promise((resolve) => c.socket.once('disconnect', resolve)));
    const resynced = within('onResync after the reconnection', new Promise<void>((resolve) => c.onResync(resolve)), 10_000);
    c.socket.io.engine.close();
    await gone;
    const missed: number[] = [];
    for (const message of ['missed 1', 'missed 2'])
      missed.push((await request<{ id: number }>(other, 'privateMessage', { to: a.user.id, message })).id);
    await resynced;
    const liveAgain = within(
      '"live again" through onPrivateMessage',
      new Promise<void>((resolve) => c.onPrivateMessage((m) => m.message === 'live again' && resolve())),
    );
    const after = await request<{ id: number }>(other, 'privateMessage', { to: a.user.id, message: 'live again' });
    await liveAgain;
    // Its own message (sent from this socket) is not echoed to it; everything else once, in order.
    expect(got).toEqual([live.id, ...missed, after.id]);
    expect(sent).toBeLessThan(missed[0]!);
    other.close();
  });
});

describe('@parley/client read state', () => {
  it("reads on one client reach the user's other clients; readState lists rooms and conversations; forgetRoom", async () => {
    const room = uniqueName('room');
    const [a, b] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const [phone, laptop] = [client(a.token), client(a.token)];
    const heard: ReadStateUpdate[] = [];
    laptop.onReadState((u) => heard.push(u));
    const forgotten: string[] = [];
    laptop.onRoomForgotten((r) => forgotten.push(r));
    await Promise.all([phone.connected(), laptop.connected()]);
    const listed = within(
      'the new room on the laptop',
      new Promise<void>((resolve) => laptop.onReadState((u) => u.room === room && resolve())),
    );
    await phone.join(room);
    await listed;
    const other = await connect(node.url, '/', b.token);
    await request(other, 'join', { room });
    const delivered = within('"two" on the phone', new Promise<void>((resolve) => phone.onMessage((m) => m.text === 'two' && resolve())));
    for (const text of ['one', 'two']) await request(other, 'chatMessage', { room, text });
    await request(other, 'privateMessage', { to: a.user.id, message: 'psst' });
    await delivered;

    const state = await laptop.readState();
    expect(state.rooms).toEqual([{ room, position: 2, readPosition: 0, unread: 2 }]);
    expect(state.conversations.map((c) => [c.user.id, c.unread, c.lastMessage?.message])).toEqual([[b.user.id, 1, 'psst']]);

    const read = within(
      'the read on the laptop',
      new Promise<void>((resolve) => laptop.onReadState((u) => u.readPosition === 2 && resolve())),
    );
    expect(await phone.readRoom(room, phone.position(room)!)).toEqual({ room, readPosition: 2, unread: 0 });
    await read;
    const lastPrivate = state.conversations[0]!.position;
    expect(await phone.readConversation(b.user.id, lastPrivate)).toEqual({ userId: b.user.id, readPosition: lastPrivate, unread: 0 });
    const gone = within('roomForgotten on the laptop', new Promise<void>((resolve) => laptop.onRoomForgotten(() => resolve())));
    await phone.forgetRoom(room);
    await gone;
    expect(heard).toEqual([
      { room, readPosition: 0, unread: 0 },
      { room, readPosition: 2, unread: 0 },
      { userId: b.user.id, readPosition: lastPrivate, unread: 0 },
    ]);
    expect(forgotten).toEqual([room]);
    expect((await laptop.readState()).rooms).toEqual([]);
    await expect(laptop.readRoom('user:1', 1)).rejects.toMatchObject({ code: 'forbidden' });
    other.close();
  });
});

describe('@parley/client token refresh', () => {
  let shortLived: TestNode;
  beforeAll(async () => {
    // Tokens of 4 s: the client must refresh before the server ends the connection at exp.
    shortLived = await startNode({ DATABASE_URL: db.url, JWT_EXPIRES_IN: '4s' });
  });
  afterAll(() => shortLived?.close());

  it('gets a new token before exp and hands it to the live connection, which outlives the first token', async () => {
    const room = uniqueName('room');
    const { token } = await registerUser(shortLived.url);
    const c = new ParleyClient({ url: shortLived.url, token, socket: { transports: ['websocket'] } });
    clients.push(c);
    const errors: unknown[] = [];
    c.socket.on('error', (e) => errors.push(e));
    const refreshed = within('onToken', new Promise<string>((resolve) => c.onToken(resolve)), 10_000);
    await c.connected();
    await c.join(room);
    // A witness with the first token: when the server ends it at that token's exp, the client's
    // connection, refreshed meanwhile, must still be up.
    const witness = await connect(shortLived.url, '/', token);
    const witnessEnded = within(
      'the witness to be ended at exp',
      new Promise<{ code: string }>((resolve) => witness.once('error', resolve)),
      10_000,
    );
    const next = await refreshed;
    expect(next).not.toBe(token);
    expect((await witnessEnded).code).toBe('token_expired');
    expect(c.socket.connected).toBe(true);
    expect(errors).toEqual([]);
    expect(await c.send(room, 'still here')).toEqual(expect.any(Number));
    witness.close();
  });
});
