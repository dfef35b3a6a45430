import { describe, expect, it } from 'vitest';
import type { PrivateMessage } from '@parley/protocol';
import { http, registerUser, request, type ClientSocket } from '@parley/testkit';
import { useTestBackend } from '@parley/testkit/vitest';

// Enough sends for 120 messages in a burst.
const the = useTestBackend({ RATE_LIMIT_BURST: '200', RATE_LIMIT_PER_SEC: '200' });
const open = the.open;

async function send(socket: ClientSocket, to: number, message: string): Promise<number> {
  const ack = await request<{ ok: boolean; id: number }>(socket, 'privateMessage', { to, message });
  expect(ack.ok).toBe(true);
  return ack.id;
}

const errorCode = (res: { body: unknown }) => (res.body as { error: { code: string } }).error.code;
type Page = { messages: PrivateMessage[] };
type SyncAck = { ok: true; messages: PrivateMessage[]; hasMore: boolean };

describe('GET /users/:id/messages', () => {
  it('the conversation between the caller and :id, both directions, newest first; no one else’s', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(the.node.url), registerUser(the.node.url), registerUser(the.node.url)]);
    const [a, b, c] = await Promise.all([open(alice), open(bob), open(carol)]);
    const ids = [await send(a, bob.user.id, 'hi bob'), await send(b, alice.user.id, 'hi alice'), await send(a, bob.user.id, 'how are you')];
    await send(c, alice.user.id, 'carol to alice');
    await send(a, carol.user.id, 'alice to carol');

    const res = await http<Page>(the.node.url, 'GET', `/users/${bob.user.id}/messages`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m) => m.id)).toEqual([...ids].reverse());
    expect(res.body.messages[2]).toEqual({
      id: ids[0],
      from: alice.user.id,
      fromUsername: alice.user.username,
      to: bob.user.id,
      message: 'hi bob',
      timestamp: expect.any(String),
      position: 1,
    });
    // The same conversation seen from the other side: the same messages, at bob's positions.
    const fromBob = await http<Page>(the.node.url, 'GET', `/users/${alice.user.id}/messages`, { token: bob.token });
    expect(fromBob.body.messages.map(({ position: _, ...m }) => m)).toEqual(res.body.messages.map(({ position: _, ...m }) => m));
    expect(fromBob.body.messages.map((m) => m.position)).toEqual([3, 2, 1]);
  });

  it('pages: 50 by default, limit up to 100, before', async () => {
    const [alice, bob] = await Promise.all([registerUser(the.node.url), registerUser(the.node.url)]);
    const a = await open(alice);
    const ids: number[] = [];
    for (let i = 0; i < 120; i++) ids.push(await send(a, bob.user.id, `m${i}`));
    const newestFirst = [...ids].reverse();
    const page = (query: string) => http<Page>(the.node.url, 'GET', `/users/${alice.user.id}/messages${query}`, { token: bob.token });
    expect((await page('')).body.messages.map((m) => m.id)).toEqual(newestFirst.slice(0, 50));
    expect((await page('?limit=100')).body.messages.map((m) => m.id)).toEqual(newestFirst.slice(0, 100));
    expect((await page(`?before=${ids[10]}`)).body.messages.map((m) => m.id)).toEqual(newestFirst.slice(110));
  });

  it('a conversation with oneself; 404 for an unknown user; 400 for bad values; 401 without a token', async () => {
    const alice = await registerUser(the.node.url);
    const a = await open(alice);
    const id = await send(a, alice.user.id, 'note to self');
    const self = await http<Page>(the.node.url, 'GET', `/users/${alice.user.id}/messages`, { token: alice.token });
    expect(self.body.messages.map((m) => m.id)).toEqual([id]);
    const unknown = await http(the.node.url, 'GET', '/users/2147483647/messages', { token: alice.token });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'not_found']);
    for (const path of [
      '/users/abc/messages',
      `/users/${alice.user.id}/messages?limit=0`,
      `/users/${alice.user.id}/messages?limit=101`,
      `/users/${alice.user.id}/messages?before=x`,
    ]) {
      const res = await http(the.node.url, 'GET', path, { token: alice.token });
      expect([path, res.status, errorCode(res)]).toEqual([path, 400, 'invalid_payload']);
    }
    const anonymous = await http(the.node.url, 'GET', `/users/${alice.user.id}/messages`);
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'unauthorized']);
  });
});

describe("'syncPrivate'", () => {
  it('catches a user up on what arrived (and what their other devices sent) after sinceId, oldest first, in pages', async () => {
    const [alice, bob, carol] = await Promise.all([registerUser(the.node.url), registerUser(the.node.url), registerUser(the.node.url)]);
    const [b, c] = await Promise.all([open(bob), open(carol)]);
    // Alice is offline for all of this, except her phone, which sends one message.
    const phone = await open(alice);
    const ids = [
      await send(b, alice.user.id, 'from bob'),
      await send(c, alice.user.id, 'from carol'),
      await send(phone, bob.user.id, 'from her phone'),
      await send(b, alice.user.id, 'bob again'),
    ];
    await send(b, carol.user.id, 'not for alice');
    const laptop = await open(alice);

    const all = await request<SyncAck>(laptop, 'syncPrivate', { sinceId: 0 });
    expect(all).toEqual({ ok: true, messages: expect.any(Array), hasMore: false, position: 4 });
    expect(all.messages.map((m) => [m.id, m.message])).toEqual([
      [ids[0], 'from bob'],
      [ids[1], 'from carol'],
      [ids[2], 'from her phone'],
      [ids[3], 'bob again'],
    ]);
    const first = await request<SyncAck>(laptop, 'syncPrivate', { sinceId: 0, limit: 3 });
    expect([first.messages.map((m) => m.id), first.hasMore]).toEqual([ids.slice(0, 3), true]);
    const rest = await request<SyncAck>(laptop, 'syncPrivate', { sinceId: ids[2], limit: 3 });
    expect([rest.messages.map((m) => m.id), rest.hasMore]).toEqual([ids.slice(3), false]);
  });

  it('refuses bad payloads with invalid_payload', async () => {
    const socket = await open(await registerUser(the.node.url));
    for (const payload of [
      undefined,
      {},
      { sinceId: -1 },
      { sinceId: 'x' },
      { sinceId: 0, sincePosition: 0 },
      { sinceId: 0, limit: 501 },
      'abc',
    ]) {
      const ack = await request<{ ok: boolean; error?: { code: string } }>(socket, 'syncPrivate', payload);
      expect([payload, ack.ok, ack.error?.code]).toEqual([payload, false, 'invalid_payload']);
    }
  });
});
