import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, PrivateMessage } from '@parley/protocol';
import {
  collectUntil,
  connect,
  nextEvent,
  registerAndConnect,
  request,
  uniqueName,
  type Client,
  type ClientSocket,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

let node: TestBackend;
let alice: Client;
let bob: Client;
/** A second socket of alice's: in Redis mode on the other node (round robin), as after a reconnection elsewhere. */
let aliceAgain: ClientSocket;
beforeAll(async () => {
  node = await startTestBackend({ RATE_LIMIT_BURST: '200' });
  [alice, bob] = await Promise.all([registerAndConnect(node.url), registerAndConnect(node.url)]);
  aliceAgain = await connect(node.url, '/', alice.token);
});
afterAll(async () => {
  for (const s of [alice?.socket, bob?.socket, aliceAgain]) s?.close();
  await node?.close();
});

type IdAck = { ok: boolean; id: number; error?: { code: string } };

async function roomWithBoth(): Promise<string> {
  const room = uniqueName('room');
  for (const socket of [bob.socket, alice.socket, aliceAgain]) await request(socket, 'join', { room });
  return room;
}

const rows = async (clientId: string) =>
  node.db.query<{ id: string }>('SELECT id FROM messages WHERE author_id = $1 AND client_id = $2', [alice.user.id, clientId]);

describe('chatMessage with a clientId', () => {
  it('a retry (same user, same clientId) answers with the first id, from any node, and is neither stored nor broadcast again', async () => {
    const room = await roomWithBoth();
    const clientId = uniqueName('c');
    const heard = collectUntil<ChatMessage>(bob.socket, 'message', (m) => m.text === 'marker');
    const first = await request<IdAck>(alice.socket, 'chatMessage', { room, text: 'once', clientId });
    const retry = await request<IdAck>(aliceAgain, 'chatMessage', { room, text: 'once', clientId });
    const sameSocket = await request<IdAck>(alice.socket, 'chatMessage', { room, text: 'once', clientId });
    expect(first).toEqual({ ok: true, id: expect.any(Number), position: expect.any(Number) });
    expect([retry, sameSocket]).toEqual([first, first]);
    await request(alice.socket, 'chatMessage', { room, text: 'marker' });
    expect((await heard).filter((m) => 'id' in m).map((m) => [m.id, m.text])).toEqual([
      [first.id, 'once'],
      [expect.any(Number), 'marker'],
    ]);
    expect((await rows(clientId)).map((r) => Number(r.id))).toEqual([first.id]);
  });

  it('retries sent at once (one batch, or two nodes racing) are stored once, and all get its id', async () => {
    const room = await roomWithBoth();
    const clientId = uniqueName('c');
    const acks = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        request<IdAck>(i % 2 ? aliceAgain : alice.socket, 'chatMessage', { room, text: 'burst', clientId }),
      ),
    );
    expect(new Set(acks.map((a) => a.id)).size).toBe(1);
    expect((await rows(clientId)).map((r) => Number(r.id))).toEqual([acks[0]!.id]);
  });

  it('the same clientId of another user, or without one, is another message', async () => {
    const room = await roomWithBoth();
    const clientId = uniqueName('c');
    const mine = await request<IdAck>(alice.socket, 'chatMessage', { room, text: 'x', clientId });
    const theirs = await request<IdAck>(bob.socket, 'chatMessage', { room, text: 'x', clientId });
    const plain = [
      await request<IdAck>(alice.socket, 'chatMessage', { room, text: 'x' }),
      await request<IdAck>(alice.socket, 'chatMessage', { room, text: 'x' }),
    ];
    expect(new Set([mine.id, theirs.id, plain[0]!.id, plain[1]!.id]).size).toBe(4);
  });

  it.each([
    ['an empty clientId', ''],
    ['a clientId over 64 characters', 'c'.repeat(65)],
    ['a numeric clientId', 5],
    ['a clientId with a control character', 'a\u0000b'],
  ])('%s is invalid_payload', async (_name, clientId) => {
    const room = await roomWithBoth();
    expect(await request<IdAck>(alice.socket, 'chatMessage', { room, text: 'x', clientId })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await request<IdAck>(alice.socket, 'privateMessage', { to: bob.user.id, message: 'x', clientId })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });
});

describe('privateMessage with a clientId', () => {
  it('a retry answers with the first id and reaches the recipient once', async () => {
    const clientId = uniqueName('c');
    const heard = collectUntil<PrivateMessage>(bob.socket, 'privateMessage', (m) => m.message === 'marker');
    const first = await request<IdAck>(alice.socket, 'privateMessage', { to: bob.user.id, message: 'once', clientId });
    const retry = await request<IdAck>(aliceAgain, 'privateMessage', { to: bob.user.id, message: 'once', clientId });
    expect(retry).toEqual(first);
    const marker = nextEvent<PrivateMessage>(bob.socket, 'privateMessage', (m) => m.message === 'marker');
    await request(alice.socket, 'privateMessage', { to: bob.user.id, message: 'marker' });
    await marker;
    expect((await heard).map((m) => [m.id, m.message])).toEqual([
      [first.id, 'once'],
      [expect.any(Number), 'marker'],
    ]);
    expect((await rows(clientId)).map((r) => Number(r.id))).toEqual([first.id]);
  });
});
