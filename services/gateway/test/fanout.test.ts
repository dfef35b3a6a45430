import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Notification } from '@parley/protocol';
import { connect, follow, nextEvent, registerUser, startNodeWithDatabase, type Session, type TestNodeWithDatabase } from '@parley/testkit';

let node: TestNodeWithDatabase;
beforeAll(async () => {
  // A quick sweeper and a short stale time stand in for a node that died mid fan-out.
  node = await startNodeWithDatabase(inject('postgresUrl'), { FANOUT_BATCH_SIZE: '2', FANOUT_STALE_MS: '200', FANOUT_SWEEP_MS: '50' });
});
afterAll(async () => {
  await node?.close();
});

/**
 * A post whose fan-out job another node claimed `claimAge` ago (a Postgres interval; negative =
 * a claim renewed into the future) and advanced past the first `done` followers (notified).
 * The job row is created with its claim in one statement: the sweeper (every 50 ms) never sees
 * it in any other state.
 */
async function orphanedPost(
  author: Session,
  followers: Session[],
  done: number,
  claimAge = '1 hour',
): Promise<{ postId: number; jobId: number }> {
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
  const [job] = await sql.query<{ id: string }>(
    `INSERT INTO fanout_jobs (post_id, author_id, cursor, claimed_by, claimed_at)
     VALUES ($1, $2, $3, 'dead-node', now() - $4::interval) RETURNING id`,
    [post!.id, author.user.id, Math.max(0, ...notified), claimAge],
  );
  return { postId: post!.id, jobId: Number(job!.id) };
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
      const { postId } = await orphanedPost(author, followers, 2);
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
    // Claimed an hour into the future: fresh for every sweep of this test.
    const { postId, jobId } = await orphanedPost(author, [follower], 0, '-1 hour');
    expect(await node.app.fanout.sweep()).toEqual([]);
    // A job taken over elsewhere stops this node's run: nextBatch checks the claim.
    expect(await node.app.repos.fanout.nextBatch(jobId, node.config.nodeId, 10)).toEqual([]);
    expect(await node.app.db.sql.query('SELECT claimed_by FROM fanout_jobs WHERE post_id = $1', [postId])).toEqual([
      { claimed_by: 'dead-node' },
    ]);
  });
});
