import { afterAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '@parley/client';
import type { ChatMessage, PrivateMessage } from '@parley/protocol';
import {
  collectUntil,
  connect,
  http,
  registerAndConnect,
  registerUser,
  request,
  uniqueName,
  within,
  type ClientSocket,
} from '@parley/testkit';
import { useAliceAndBob } from '@parley/testkit/vitest';

// Positions (issue 12, point 6): each room, and each user's private messages, is a stream
// numbered 1, 2, 3… with no gaps, committed in order, so a member can tell a missing message
// from a late one, and catch up exactly from the last position it has. In Redis mode the
// sockets below sit on two nodes (round robin), whose broadcasts can arrive in any order.

const the = useAliceAndBob({ RATE_LIMIT_BURST: '500' });
const clients: ParleyClient[] = [];
afterAll(() => {
  for (const c of clients) c.close();
});

type SyncAck<M> = { ok: true; messages: M[]; hasMore: boolean; position: number };
type SendAck = { ok: true; id: number; position: number };

async function roomOfAll(): Promise<string> {
  const room = uniqueName('room');
  for (const socket of [the.alice.socket, the.aliceAgain, the.bob.socket]) await request(socket, 'join', { room });
  return room;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('room positions', () => {
  it('number a room 1, 2, 3… in the ack, the broadcast and the history; sync resumes after a position', async () => {
    const room = await roomOfAll();
    const start = await request<SyncAck<ChatMessage>>(the.bob.socket, 'sync', { room, sincePosition: 0, limit: 0 });
    expect(start).toEqual({ ok: true, messages: [], hasMore: false, position: 0 });
    const heard = collectUntil<ChatMessage>(the.bob.socket, 'message', (m) => m.text === 'three');
    const acks: SendAck[] = [];
    for (const text of ['one', 'two', 'three']) acks.push(await request<SendAck>(the.alice.socket, 'chatMessage', { room, text }));
    expect(acks.map((a) => a.position)).toEqual([1, 2, 3]);
    expect((await heard).filter((m) => 'id' in m).map((m) => [m.position, m.id])).toEqual(acks.map((a) => [a.position, a.id]));

    const after1 = await request<SyncAck<ChatMessage>>(the.bob.socket, 'sync', { room, sincePosition: 1 });
    expect(after1).toMatchObject({ ok: true, hasMore: false, position: 3 });
    // limit 0: only where the room stands, whatever follows the cursor.
    expect(await request(the.bob.socket, 'sync', { room, sincePosition: 0, limit: 0 })).toEqual({
      ok: true,
      messages: [],
      hasMore: false,
      position: 3,
    });
    expect(after1.messages.map((m) => [m.position, m.text])).toEqual([
      [2, 'two'],
      [3, 'three'],
    ]);
    // Paged: hasMore until the end. limit 0 only tells where the room stands.
    expect(await request(the.bob.socket, 'sync', { room, sincePosition: 0, limit: 2 })).toMatchObject({ hasMore: true, position: 3 });
    expect(await request(the.bob.socket, 'sync', { room, sincePosition: 3, limit: 0 })).toEqual({
      ok: true,
      messages: [],
      hasMore: false,
      position: 3,
    });
    // The lesson's cursor still works, in the same order.
    const byId = await request<SyncAck<ChatMessage>>(the.bob.socket, 'sync', { room, sinceId: acks[0]!.id });
    expect(byId.messages.map((m) => m.position)).toEqual([2, 3]);
    const history = await http<{ messages: ChatMessage[] }>(the.node.url, 'GET', `/rooms/${room}/messages`, { token: the.bob.token });
    expect(history.body.messages.map((m) => m.position)).toEqual([3, 2, 1]);
  });

  it('sync needs exactly one cursor', async () => {
    const room = await roomOfAll();
    for (const payload of [{ room }, { room, sinceId: 0, sincePosition: 0 }, { room, sincePosition: -1 }, { room, sincePosition: 1.5 }])
      expect(await request(the.bob.socket, 'sync', payload), JSON.stringify(payload)).toMatchObject({
        ok: false,
        error: { code: 'invalid_payload' },
      });
  });

  it('senders on both nodes at once: every member gets every position once, none skipped; position order is id order', async () => {
    const room = await roomOfAll();
    const perSender = 40;
    const heard = collectUntil<ChatMessage>(the.bob.socket, 'message', (m) => 'id' in m && m.position === 2 * perSender);
    const sends = (socket: ClientSocket, who: string) =>
      Promise.all(range(1, perSender).map((i) => request<SendAck>(socket, 'chatMessage', { room, text: `${who} ${i}` })));
    const acks = (await Promise.all([sends(the.alice.socket, 'a'), sends(the.aliceAgain, 'b')])).flat();
    expect(acks.every((a) => a.ok)).toBe(true);
    expect(acks.map((a) => a.position).sort((x, y) => x - y)).toEqual(range(1, 2 * perSender));

    // What bob heard may come in another order across nodes, but it is the same set: he can
    // tell whether anything is missing from the positions alone.
    const live = (await heard).filter((m): m is ChatMessage => 'id' in m);
    expect(live.map((m) => m.position).sort((x, y) => x - y)).toEqual(range(1, 2 * perSender));
    const all = await request<SyncAck<ChatMessage>>(the.bob.socket, 'sync', { room, sincePosition: 0, limit: 500 });
    expect(all.messages.map((m) => m.position)).toEqual(range(1, 2 * perSender));
    const ids = all.messages.map((m) => m.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
  });

  it('a retried clientId takes no position: the next message follows without a gap', async () => {
    const room = await roomOfAll();
    const clientId = uniqueName('c');
    const first = await request<SendAck>(the.alice.socket, 'chatMessage', { room, text: 'once', clientId });
    const retry = await request<SendAck>(the.aliceAgain, 'chatMessage', { room, text: 'once', clientId });
    const next = await request<SendAck>(the.alice.socket, 'chatMessage', { room, text: 'next' });
    expect(retry).toEqual(first);
    expect([first.position, next.position]).toEqual([1, 2]);
  });
});

describe('private positions', () => {
  it("number each user's private messages, sent and received, in one stream of their own", async () => {
    const [a, b] = await Promise.all([registerAndConnect(the.node.url), registerAndConnect(the.node.url)]);
    const aOther = await connect(the.node.url, '/', a.token);
    try {
      const toB = collectUntil<PrivateMessage>(b.socket, 'privateMessage', (m) => m.message === 'a to b');
      const toAOther = collectUntil<PrivateMessage>(aOther, 'privateMessage', (m) => m.message === 'to self');
      const sent1 = await request<SendAck>(a.socket, 'privateMessage', { to: b.user.id, message: 'a to b', clientId: 'k-1' });
      const sent2 = await request<SendAck>(b.socket, 'privateMessage', { to: a.user.id, message: 'b to a' });
      const sent3 = await request<SendAck>(a.socket, 'privateMessage', { to: a.user.id, message: 'to self' });
      // The ack gives the place in the sender's own stream.
      expect([sent1.position, sent2.position, sent3.position]).toEqual([1, 2, 3]);
      // b's stream: a's message was b's 1st, b's reply b's 2nd ('to self' is not in it).
      expect((await toB).map((m) => [m.message, m.position])).toEqual([['a to b', 1]]);
      // a's other device sees all three, at a's positions; a's own sends with their clientId.
      expect((await toAOther).map((m) => [m.message, m.position, m.clientId])).toEqual([
        ['a to b', 1, 'k-1'],
        ['b to a', 2, undefined],
        ['to self', 3, undefined],
      ]);
      const bStream = await request<SyncAck<PrivateMessage>>(b.socket, 'syncPrivate', { sincePosition: 0 });
      expect(bStream).toMatchObject({ ok: true, hasMore: false, position: 2 });
      // The recipient never sees the author's clientId.
      expect(bStream.messages.map((m) => [m.message, m.position, m.clientId])).toEqual([
        ['a to b', 1, undefined],
        ['b to a', 2, undefined],
      ]);
      expect((await toB)[0]).not.toHaveProperty('clientId');
      const aStream = await request<SyncAck<PrivateMessage>>(a.socket, 'syncPrivate', { sincePosition: 0, limit: 1 });
      expect(aStream.messages.map((m) => [m.message, m.clientId])).toEqual([['a to b', 'k-1']]);
      const aFrom1 = await request<SyncAck<PrivateMessage>>(a.socket, 'syncPrivate', { sincePosition: 1 });
      expect(aFrom1.messages.map((m) => [m.message, m.position])).toEqual([
        ['b to a', 2],
        ['to self', 3],
      ]);
      const conversation = await http<{ messages: PrivateMessage[] }>(the.node.url, 'GET', `/users/${a.user.id}/messages`, {
        token: b.token,
      });
      expect(conversation.body.messages.map((m) => [m.message, m.position])).toEqual([
        ['b to a', 2],
        ['a to b', 1],
      ]);
    } finally {
      for (const s of [a.socket, b.socket, aOther]) s.close();
    }
  });
});

describe('@parley/client over positions', () => {
  it('joining a room with history, and starting with private mail already there: from then on, nothing older', async () => {
    const [carol, dave] = await Promise.all([registerAndConnect(the.node.url), registerAndConnect(the.node.url)]);
    const room = uniqueName('room');
    await request(dave.socket, 'join', { room });
    for (const text of ['old 1', 'old 2']) await request(dave.socket, 'chatMessage', { room, text });
    await request(dave.socket, 'privateMessage', { to: carol.user.id, message: 'old private' });
    const c = new ParleyClient({ url: the.node.url, token: carol.token, socket: { transports: ['websocket'] } });
    clients.push(c);
    const got: string[] = [];
    const newest = within(
      '"new" and "new private"',
      new Promise<void>((resolve) => {
        const seen = new Set<string>();
        const note = (text: string) => (got.push(text), seen.add(text), seen.has('new') && seen.has('new private') && resolve());
        c.onMessage((m) => note(m.text));
        c.onPrivateMessage((m) => note(m.message));
      }),
    );
    await within('connected', c.connected());
    expect(c.privatePosition()).toBe(1);
    await within('join', c.join(room));
    expect(c.position(room)).toBe(2);
    await request(dave.socket, 'chatMessage', { room, text: 'new' });
    await request(dave.socket, 'privateMessage', { to: carol.user.id, message: 'new private' });
    await newest;
    expect(got.sort()).toEqual(['new', 'new private']);
    for (const s of [carol.socket, dave.socket]) s.close();
  });

  it('hands the application every message of a room in position order, once, though senders on two nodes race', async () => {
    const room = await roomOfAll();
    const c = new ParleyClient({ url: the.node.url, token: the.bob.token, socket: { transports: ['websocket'] } });
    clients.push(c);
    const got: ChatMessage[] = [];
    const perSender = 30;
    const last = within(
      'the client to deliver the last position',
      new Promise<void>((resolve) => c.onMessage((m) => (got.push(m), m.position === 2 * perSender && resolve()))),
    );
    await c.connected();
    await c.join(room);
    const sends = (socket: ClientSocket, who: string) =>
      Promise.all(range(1, perSender).map((i) => request<SendAck>(socket, 'chatMessage', { room, text: `${who} ${i}` })));
    await Promise.all([sends(the.alice.socket, 'a'), sends(the.aliceAgain, 'b')]);
    await last;
    expect(got.map((m) => m.position)).toEqual(range(1, 2 * perSender));
    expect(c.position(room)).toBe(2 * perSender);
  });

  it('passes over positions whose messages are gone (the author deleted the account) instead of waiting for them', async () => {
    const room = await roomOfAll();
    const leaver = await registerUser(the.node.url);
    const leaverSocket = await connect(the.node.url, '/', leaver.token);
    await request(leaverSocket, 'join', { room });
    const c = new ParleyClient({ url: the.node.url, token: the.bob.token, socket: { transports: ['websocket'] }, gapWaitMs: 100 });
    clients.push(c);
    const got: string[] = [];
    const after = within(
      '"after" through onMessage',
      new Promise<void>((resolve) => c.onMessage((m) => (got.push(m.text), m.text === 'after' && resolve()))),
    );
    await c.connected();
    await c.join(room);
    // The client is away while position 1 is written and deleted (with its author's account).
    c.socket.disconnect();
    await request(leaverSocket, 'chatMessage', { room, text: 'gone' });
    leaverSocket.close();
    expect((await http(the.node.url, 'DELETE', '/me', { token: leaver.token, body: { password: 'password123' } })).status).toBe(204);
    c.socket.connect();
    await request(the.alice.socket, 'chatMessage', { room, text: 'after' });
    await after;
    expect(got).toEqual(['after']);
  });
});
