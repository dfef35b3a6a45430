import { describe, expect, it } from 'vitest';
import type { ChatMessage, PrivateMessage } from '@parley/protocol';
import { collectUntil, nextEvent, request, uniqueName } from '@parley/testkit';
import { useAliceAndBob } from '@parley/testkit/vitest';

const the = useAliceAndBob({ RATE_LIMIT_BURST: '200' });

type IdAck = { ok: boolean; id: number; error?: { code: string } };

async function roomWithBoth(): Promise<string> {
  const room = uniqueName('room');
  for (const socket of [the.bob.socket, the.alice.socket, the.aliceAgain]) await request(socket, 'join', { room });
  return room;
}

const rows = async (clientId: string) =>
  the.node.db.query<{ id: string }>('SELECT id FROM messages WHERE author_id = $1 AND client_id = $2', [the.alice.user.id, clientId]);

describe('chatMessage with a clientId', () => {
  it('a retry (same user, same clientId) answers with the first id, from any node, and is neither stored nor broadcast again', async () => {
    const room = await roomWithBoth();
    const clientId = uniqueName('c');
    const heard = collectUntil<ChatMessage>(the.bob.socket, 'message', (m) => m.text === 'marker');
    const first = await request<IdAck>(the.alice.socket, 'chatMessage', { room, text: 'once', clientId });
    const retry = await request<IdAck>(the.aliceAgain, 'chatMessage', { room, text: 'once', clientId });
    const sameSocket = await request<IdAck>(the.alice.socket, 'chatMessage', { room, text: 'once', clientId });
    expect(first).toEqual({ ok: true, id: expect.any(Number), position: expect.any(Number) });
    expect([retry, sameSocket]).toEqual([first, first]);
    await request(the.alice.socket, 'chatMessage', { room, text: 'marker' });
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
        request<IdAck>(i % 2 ? the.aliceAgain : the.alice.socket, 'chatMessage', { room, text: 'burst', clientId }),
      ),
    );
    expect(new Set(acks.map((a) => a.id)).size).toBe(1);
    expect((await rows(clientId)).map((r) => Number(r.id))).toEqual([acks[0]!.id]);
  });

  it('the same clientId of another user, or without one, is another message', async () => {
    const room = await roomWithBoth();
    const clientId = uniqueName('c');
    const mine = await request<IdAck>(the.alice.socket, 'chatMessage', { room, text: 'x', clientId });
    const theirs = await request<IdAck>(the.bob.socket, 'chatMessage', { room, text: 'x', clientId });
    const plain = [
      await request<IdAck>(the.alice.socket, 'chatMessage', { room, text: 'x' }),
      await request<IdAck>(the.alice.socket, 'chatMessage', { room, text: 'x' }),
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
    expect(await request<IdAck>(the.alice.socket, 'chatMessage', { room, text: 'x', clientId })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
    expect(await request<IdAck>(the.alice.socket, 'privateMessage', { to: the.bob.user.id, message: 'x', clientId })).toMatchObject({
      ok: false,
      error: { code: 'invalid_payload' },
    });
  });
});

describe('privateMessage with a clientId', () => {
  it('a retry answers with the first id and reaches the recipient once', async () => {
    const clientId = uniqueName('c');
    const heard = collectUntil<PrivateMessage>(the.bob.socket, 'privateMessage', (m) => m.message === 'marker');
    const first = await request<IdAck>(the.alice.socket, 'privateMessage', { to: the.bob.user.id, message: 'once', clientId });
    const retry = await request<IdAck>(the.aliceAgain, 'privateMessage', { to: the.bob.user.id, message: 'once', clientId });
    expect(retry).toEqual(first);
    const marker = nextEvent<PrivateMessage>(the.bob.socket, 'privateMessage', (m) => m.message === 'marker');
    await request(the.alice.socket, 'privateMessage', { to: the.bob.user.id, message: 'marker' });
    await marker;
    expect((await heard).map((m) => [m.id, m.message])).toEqual([
      [first.id, 'once'],
      [expect.any(Number), 'marker'],
    ]);
    expect((await rows(clientId)).map((r) => Number(r.id))).toEqual([first.id]);
  });
});
