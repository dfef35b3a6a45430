import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Notification } from '@parley/protocol';
import {
  connect,
    follow,
  nextEvent,
  registerUser,
  startNodeWithDatabase,
  type Session,
    type TestNodeWithDatabase,
} from '@parley/testkit';

let node: TestNodeWithDatabase;
beforeAll(async () => {
  // A quick sweeper and a short stale time stand in for a node that died mid fan-out.
  node = await startNodeWithDatabase(inject('postgresUrl'), { FANOUT_BATCH_SIZE: '2', FANOUT_STALE_MS: '200', FANOUT_SWEEP_MS: '50' });
});
afterAll(async () => {
  await node?.close();
});

/** A post whose fan-out job a dead node claimed and advanced to `cursor` (notifying those followers). */
async function orphanedPost(author: Session, followers: Session[], done: number): Promise<number> {
  const sql = node.app.db.sql;
  const [post] = await sql.query<{ id: number }>(
    `INSERT INTO posts (content, author_id, updated_at) VALUES ('orphan', $1, now()) RETURNING id`,
    [author.user.id],
  );
  const notified = followers.slice(0, done).map((f) => f.user.id);
  await sql.query(
    `INSERT INTO notifications (recipient_id, type, message, data)
     SELECT id, 'new_post', $2, jsonb_build_object('postId', $3::int) FROM unnest($1::int[]) AS id`,
    [notified, `${author.user.username} created a new post`, post!.id],
  );
  await sql.query(
    `INSERT INTO fanout_jobs (post_id, author_id, cursor, claimed_by, claimed_at)
     VALUES ($1, $2, $3, 'dead-node', now() - interval '1 hour')`,
    [post!.id, author.user.id, Math.max(0, ...notified)],
  );
  return post!.id;
}

describe('durable fan-out', () => {
  it("finishes a dead node's job exactly once: the sweeper takes it over and delivers live", async () => {
    const author = await registerUser(node.url);
    const followers: Session[] = [];
    for (let i = 0; i < 5; i++) followers.push(await registerUser(node.url));
    for (const f of followers) await follow(node.url, f, author.user.id);
    const last = followers[4]!;
    const socket = await connect(node.url, '/notifications', last.token);
    try {
      const arrived = nextEvent<Notification>(socket, 'notification');
      const postId = await orphanedPost(author, followers, 2);
      // The sweeper (every 50 ms) claims the stale job; the last follower hears of it.
      expect((await arrived).data).toEqual({ postId });
      await node.app.fanout.idle();
      const rows = await node.app.db.sql.query<{ recipient_id: number; n: number }>(
        `SELECT recipient_id, count(*)::int AS n FROM notifications WHERE data->>'postId' = $1 GROUP BY recipient_id ORDER BY recipient_id`,
        [String(postId)],
      );
      expect(rows).toEqual(followers.map((f) => ({ recipient_id: f.user.id, n: 1 })));
      expect(await node.app.db.sql.query('SELECT id FROM fanout_jobs WHERE post_id = $1', [postId])).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('leaves a job alone while its node holds a fresh claim', async () => {
    const author = await registerUser(node.url);
    const follower = await registerUser(node.url);
    await follow(node.url, follower, author.user.id);
    const postId = await orphanedPost(author, [follower], 0);
    await node.app.db.sql.query(`UPDATE fanout_jobs SET claimed_at = now() + interval '1 hour' WHERE post_id = $1`, [postId]);
    expect(await node.app.fanout.sweep()).toEqual([]);
    // A job taken over elsewhere stops this node's run: nextBatch checks the claim.
    const [job] = await node.app.db.sql.query<{ id: string }>('SELECT id FROM fanout_jobs WHERE post_id = $1', [postId]);
    expect(await node.app.repos.fanout.nextBatch(Number(job!.id), node.config.nodeId, 10)).toEqual([]);
  });
});
