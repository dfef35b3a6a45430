import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, createTestDatabase, nextEvent, registerUser, request, startNode, type TestDatabase, type TestNode } from '@parley/testkit';

let db: TestDatabase;
let node: TestNode;
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  node = await startNode({ DATABASE_URL: db.url });
});
afterAll(async () => {
  await node?.close();
  await db?.drop();
});

describe('smoke', () => {
  it('joins and chats', async () => {
    const a = await registerUser(node.url);
    const s = await connect(node.url, '/', a.token);
    const welcome = nextEvent(s, 'message');
    const ack = await request(s, 'join', { room: 'lobby', username: 'spoof' });
    expect(ack).toMatchObject({ ok: true, room: 'lobby', users: [a.user.username] });
    expect(await welcome).toMatchObject({ username: 'System', text: 'Welcome to lobby!' });
    const msg = nextEvent(s, 'message', (m: { text: string }) => m.text === 'hello');
    const res = await request<{ ok: boolean; id: number }>(s, 'chatMessage', 'hello');
    expect(res.ok).toBe(true);
    expect(await msg).toMatchObject({ id: res.id, room: 'lobby', username: a.user.username, text: 'hello' });
    s.close();
  });
});
