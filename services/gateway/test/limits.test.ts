import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Ack } from '@parley/protocol';
import { connect, http, nextEvent, registerAndConnect, registerUser, request, uniqueName, type TestBackend } from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

const BURST = 5;
const MAX_PACKET = 4096;

let node: TestBackend;
beforeAll(async () => {
  // A tiny bucket refilled slowly, so a flood is refused deterministically.
  node = await startTestBackend({
    RATE_LIMIT_BURST: String(BURST),
    RATE_LIMIT_PER_SEC: '0.001',
    MAX_HTTP_BUFFER_SIZE: String(MAX_PACKET),
  });
});
afterAll(() => node?.close());

const codes = (acks: Ack[]) => acks.map((a) => (a.ok ? 'ok' : a.error.code));

describe('rate limits', () => {
  it('a flood of chat messages is refused with rate_limited while another client is served', async () => {
    const room = uniqueName('room');
    const flooder = await registerAndConnect(node.url);
    const calm = await registerAndConnect(node.url);
    await request(flooder.socket, 'join', { room });
    await request(calm.socket, 'join', { room });

    const flood = await Promise.all(Array.from({ length: BURST * 4 }, (_, i) => request<Ack>(flooder.socket, 'chatMessage', `spam ${i}`)));
    expect(codes(flood).filter((c) => c === 'ok')).toHaveLength(BURST);
    expect(codes(flood).filter((c) => c === 'rate_limited')).toHaveLength(BURST * 3);

    expect(await request(calm.socket, 'chatMessage', 'still served')).toMatchObject({ ok: true });
    expect((await http(node.url, 'GET', '/healthz')).status).toBe(200);
    expect(flooder.socket.connected).toBe(true);
    // Without an ack the refusal is an 'error' event.
    const error = nextEvent(flooder.socket, 'error');
    flooder.socket.emit('chatMessage', 'one more');
    expect(await error).toMatchObject({ code: 'rate_limited' });
    flooder.socket.close();
    calm.socket.close();
  });

  it('private messages and the lesson message share the send bucket', async () => {
    const sender = await registerAndConnect(node.url);
    const target = await registerUser(node.url);
    const acks: Ack[] = [];
    for (let i = 0; i < BURST; i++) acks.push(await request<Ack>(sender.socket, 'privateMessage', { to: target.user.id, message: 'hi' }));
    expect(codes(acks)).toEqual(Array(BURST).fill('ok'));
    const error = nextEvent(sender.socket, 'error');
    sender.socket.emit('message', { hello: true });
    expect(await error).toMatchObject({ code: 'rate_limited' });
    sender.socket.close();
  });

  it('room events have a bucket of their own, big enough to rejoin and sync every room at once', async () => {
    const client = await registerAndConnect(node.url);
    // What a client reconnecting to another node does: rejoin its 50 rooms (the documented cap)
    // and sync each. docs/PROTOCOL.md: the room bucket's burst is at least 100, whatever
    // RATE_LIMIT_BURST says (5 here).
    const rooms = Array.from({ length: 50 }, (_, i) => `resync-${client.user.id}-${i}`);
    const acks = await Promise.all(
      rooms.flatMap((room) => [request<Ack>(client.socket, 'join', { room }), request<Ack>(client.socket, 'sync', { room, sinceId: 0 })]),
    );
    expect(codes(acks)).toEqual(Array(100).fill('ok'));
    // The bucket is now empty: churning membership is refused, chat is not.
    const churn = await Promise.all([
      request<Ack>(client.socket, 'leaveRoom', rooms[0]),
      request<Ack>(client.socket, 'joinRoom', rooms[0]),
    ]);
    expect(codes(churn)).toEqual(['rate_limited', 'rate_limited']);
    expect(await request(client.socket, 'chatMessage', { room: rooms[0], text: 'chat has its own bucket' })).toMatchObject({ ok: true });
    client.socket.close();
  });

  it('typing has its own bucket, twice the send burst', async () => {
    const typist = await registerAndConnect(node.url);
    await request(typist.socket, 'join', { room: 'typing-room' });
    const acks = await Promise.all(Array.from({ length: BURST * 3 }, () => request<Ack>(typist.socket, 'typing', { room: 'typing-room' })));
    expect(codes(acks).filter((c) => c === 'ok')).toHaveLength(BURST * 2);
    expect(await request(typist.socket, 'chatMessage', 'chat still allowed')).toMatchObject({ ok: true });
    typist.socket.close();
  });
});

describe('maxHttpBufferSize', () => {
  it('a packet over the limit closes that connection only', async () => {
    const big = await registerAndConnect(node.url);
    const other = await registerAndConnect(node.url);
    const closed = nextEvent<string>(big.socket, 'disconnect');
    big.socket.emit('message', { blob: 'x'.repeat(MAX_PACKET * 2) });
    expect(await closed).toBe('transport close');
    expect(await request(other.socket, 'join', { room: 'after-the-big-one' })).toMatchObject({ ok: true });
    // The same user can come back.
    const again = await connect(node.url, '/', big.token);
    expect(again.connected).toBe(true);
    again.close();
    other.socket.close();
  });
});
