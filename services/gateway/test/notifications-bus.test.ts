import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Notification } from '@parley/protocol';
import {
  collect,
  connect,
  createTestDatabase,
  createPost,
  follow,
  nextEvent,
  registerUser,
  startNode,
  type TestDatabase,
  type TestNode,
} from '@parley/testkit';

let db: TestDatabase;
let nodes: TestNode[] = [];
beforeAll(async () => {
  db = await createTestDatabase(inject('postgresUrl'));
  // Two nodes on one database and one Redis, with this file's own bus channel.
  const env = { DATABASE_URL: db.url, REDIS_URL: inject('redisUrl'), REDIS_KEY_PREFIX: `parley-test-${randomBytes(4).toString('hex')}` };
  nodes = [await startNode({ ...env, NODE_ID: 'node-a' }), await startNode({ ...env, NODE_ID: 'node-b' })];
});
afterAll(async () => {
  for (const node of nodes) await node.close();
  await db?.drop();
});

describe('notifications across nodes (Redis bus)', () => {
  it("reach a follower's devices on every node, once each", async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    const [author, follower] = await Promise.all([registerUser(a.url), registerUser(a.url)]);
    await follow(a.url, follower, author.user.id);
    const [onA, onB] = await Promise.all([
      connect(a.url, '/notifications', follower.token),
      connect(b.url, '/notifications', follower.token),
    ]);
    try {
      const seenA = collect<Notification>(onA, 'notification');
      const seenB = collect<Notification>(onB, 'notification');
      const arrived = [nextEvent<Notification>(onA, 'notification'), nextEvent<Notification>(onB, 'notification')];
      const post = await createPost(a.url, author, { content: 'cluster news' });
      const [fromA, fromB] = await Promise.all(arrived);
      expect(fromA).toMatchObject({ type: 'new_post', data: { postId: post.id } });
      expect(fromB).toEqual(fromA);

      // A later notification, sent from node B, arrives after the first on both: no extra copies.
      const marker = [
        nextEvent<Notification>(onA, 'notification', (n) => n.type === 'barrier'),
        nextEvent<Notification>(onB, 'notification', (n) => n.type === 'barrier'),
      ];
      await b.app.notifier.notifyUser(follower.user.id, { type: 'barrier', message: 'barrier', data: {} });
      await Promise.all(marker);
      expect(seenA.map((n) => n.type)).toEqual(['new_post', 'barrier']);
      expect(seenB.map((n) => n.type)).toEqual(['new_post', 'barrier']);
    } finally {
      onA.close();
      onB.close();
    }
  });
});
