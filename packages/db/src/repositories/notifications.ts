import { ParleyError, type Notification } from '@parley/protocol';
import type { SqlClient } from '../sql.ts';

export interface NewNotification {
  type: string;
  message: string;
  data: Record<string, unknown>;
}

/** A stored notification and who it is for. */
export interface NotificationDelivery {
  recipientId: number;
  notification: Notification;
}

export interface NotificationRow {
  id: string | number | bigint;
  recipient_id: number;
  type: string;
  message: string;
  data: Record<string, unknown> | string;
  created_at: Date | string;
  read_at: Date | string | null;
}

/** The columns `notificationFromRow` reads. */
export const COLUMNS = 'id, recipient_id, type, message, data, created_at, read_at';

export function notificationFromRow(row: NotificationRow): NotificationDelivery {
  return {
    recipientId: row.recipient_id,
    notification: {
      id: Number(row.id),
      type: row.type,
      message: row.message,
      data: typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, unknown>) : row.data,
      timestamp: new Date(row.created_at).toISOString(),
      readAt: row.read_at === null ? null : new Date(row.read_at).toISOString(),
    },
  };
}

/** Every query is scoped to its recipient: one user's notifications are never another's. */
export class NotificationRepository {
  constructor(private readonly sql: SqlClient) {}

  /** @throws ParleyError('not_found') when the recipient does not exist. */
  async create(recipientId: number, input: NewNotification): Promise<NotificationDelivery> {
    const rows = await this.sql.query<NotificationRow>(
      `INSERT INTO notifications (recipient_id, type, message, data)
       SELECT id, $2, $3, $4::jsonb FROM users WHERE id = $1
       RETURNING ${COLUMNS}`,
      [recipientId, input.type, input.message, JSON.stringify(input.data)],
    );
    const row = rows[0];
    if (!row) throw new ParleyError('not_found', `No user ${recipientId}`);
    return notificationFromRow(row);
  }

  /** Newest first, ids below `before` when given. */
  async list(recipientId: number, options: { unreadOnly: boolean; limit: number; before?: number | undefined }): Promise<Notification[]> {
    const rows = await this.sql.query<NotificationRow>(
      `SELECT ${COLUMNS} FROM notifications
       WHERE recipient_id = $1 AND ($2::boolean IS FALSE OR read_at IS NULL) AND ($3::bigint IS NULL OR id < $3)
       ORDER BY id DESC LIMIT $4`,
      [recipientId, options.unreadOnly, options.before ?? null, options.limit],
    );
    return rows.map((r) => notificationFromRow(r).notification);
  }

  /**
   * The backlog sent on connect, in one query: the newest `limit` unread notifications, oldest
   * first, and how many are unread in all.
   */
  async unreadBacklog(recipientId: number, limit: number): Promise<{ notifications: Notification[]; unreadCount: number }> {
    const rows = await this.sql.query<NotificationRow & { total: number }>(
      `SELECT ${COLUMNS}, count(*) OVER ()::int AS total FROM notifications
       WHERE recipient_id = $1 AND read_at IS NULL
       ORDER BY id DESC LIMIT $2`,
      [recipientId, limit],
    );
    // No row: nothing unread (limit is at least 1).
    return { notifications: rows.map((r) => notificationFromRow(r).notification).reverse(), unreadCount: rows[0]?.total ?? 0 };
  }

  async unreadCount(recipientId: number): Promise<number> {
    const rows = await this.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM notifications WHERE recipient_id = $1 AND read_at IS NULL',
      [recipientId],
    );
    return rows[0]?.n ?? 0;
  }

  /** Mark the given ids read (already-read ones keep their time); returns how many are the recipient's. */
  async markRead(recipientId: number, ids: number[]): Promise<number> {
    const rows = await this.sql.query<{ n: number }>(
      `WITH upd AS (
         UPDATE notifications SET read_at = COALESCE(read_at, now())
         WHERE recipient_id = $1 AND id = ANY($2::bigint[]) RETURNING 1
       ) SELECT count(*)::int AS n FROM upd`,
      [recipientId, ids],
    );
    return rows[0]?.n ?? 0;
  }

  /** Mark every unread notification of the recipient read; returns how many changed. */
  async markAllRead(recipientId: number): Promise<number> {
    const rows = await this.sql.query<{ n: number }>(
      `WITH upd AS (
         UPDATE notifications SET read_at = now() WHERE recipient_id = $1 AND read_at IS NULL RETURNING 1
       ) SELECT count(*)::int AS n FROM upd`,
      [recipientId],
    );
    return rows[0]?.n ?? 0;
  }
}
