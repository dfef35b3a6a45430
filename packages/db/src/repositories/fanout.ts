import type { SqlClient } from '../sql.ts';
import { COLUMNS, notificationFromRow, type NotificationDelivery, type NotificationRow } from './notifications.ts';

/**
 * Durable fan-out of 'new_post' notifications (table fanout_jobs). Each batch is one
 * statement: it locks the job, takes the next `limit` followers after the job's cursor,
 * inserts their notifications and advances the cursor, so a batch is done exactly once
 * even when a node dies between batches and another takes the job over.
 */
export class FanoutRepository {
  constructor(private readonly sql: SqlClient) {}

  /** Next batch of job `jobId` if `nodeId` still holds it; empty when done (or taken over). */
  async nextBatch(jobId: number, nodeId: string, limit: number): Promise<NotificationDelivery[]> {
    const rows = await this.sql.query<NotificationRow>(
      `WITH job AS (
         SELECT j.id, j.post_id, j.author_id, j.cursor, u.username
         FROM fanout_jobs j JOIN users u ON u.id = j.author_id
         WHERE j.id = $1 AND j.claimed_by = $2
         FOR UPDATE OF j
       ), batch AS (
         SELECT f.follower_id, job.post_id, job.username
         FROM job JOIN follows f ON f.followee_id = job.author_id AND f.follower_id > job.cursor
         ORDER BY f.follower_id
         LIMIT $3
       ), ins AS (
         INSERT INTO notifications (recipient_id, type, message, data)
         SELECT follower_id, 'new_post', username || ' created a new post', jsonb_build_object('postId', post_id)
         FROM batch ORDER BY follower_id
         RETURNING ${COLUMNS}
       ), advance AS (
         UPDATE fanout_jobs SET cursor = (SELECT max(follower_id) FROM batch), claimed_at = now()
         WHERE id = $1 AND EXISTS (SELECT 1 FROM batch)
       )
       SELECT * FROM ins ORDER BY id`,
      [jobId, nodeId, limit],
    );
    return rows.map(notificationFromRow);
  }

  /** Remove a finished job (only if `nodeId` still holds it). */
  async finish(jobId: number, nodeId: string): Promise<void> {
    await this.sql.query('DELETE FROM fanout_jobs WHERE id = $1 AND claimed_by = $2', [jobId, nodeId]);
  }

  /** Claim up to `limit` jobs unclaimed or claimed longer than `staleMs` ago (a dead node's). */
  async claimStale(nodeId: string, staleMs: number, limit: number): Promise<number[]> {
    const rows = await this.sql.query<{ id: string | number | bigint }>(
      `UPDATE fanout_jobs SET claimed_by = $1, claimed_at = now()
       WHERE id IN (
         SELECT id FROM fanout_jobs
         WHERE claimed_at IS NULL OR claimed_at < now() - $2 * interval '1 millisecond'
         ORDER BY id LIMIT $3
         FOR UPDATE SKIP LOCKED
       )
       RETURNING id`,
      [nodeId, staleMs, limit],
    );
    return rows.map((r) => Number(r.id));
  }
}
