import type { SyncCursor } from '@parley/db';

/**
 * One page of at most `limit` rows and whether more follow: `fetch` is asked for one row more
 * than the page holds, so no count query is needed.
 */
export async function pageOf<T>(fetch: (count: number) => Promise<T[]>, limit: number): Promise<{ messages: T[]; hasMore: boolean }> {
  const rows = await fetch(limit + 1);
  const hasMore = rows.length > limit;
  return { messages: hasMore ? rows.slice(0, limit) : rows, hasMore };
}

/**
 * A 'sync' / 'syncPrivate' answer: a page after the request's cursor (its schema lets exactly
 * one of sinceId and sincePosition through), and the stream's last position, read first: a
 * stream's positions commit in order, so every message up to it that still exists is in this
 * page or the ones after (a client passes over the rest once `hasMore` is false).
 */
export async function syncPage<T>(
  request: { sinceId?: number | undefined; sincePosition?: number | undefined; limit?: number | undefined },
  fetch: (cursor: SyncCursor, count: number) => Promise<T[]>,
  position: () => Promise<number>,
): Promise<{ messages: T[]; hasMore: boolean; position: number }> {
  const cursor: SyncCursor = request.sinceId === undefined ? { sincePosition: request.sincePosition ?? 0 } : { sinceId: request.sinceId };
  const last = await position();
  const limit = request.limit ?? 100;
  // limit 0 asks only where the stream stands.
  if (limit === 0) return { messages: [], hasMore: false, position: last };
  return { ...(await pageOf((count) => fetch(cursor, count), limit)), position: last };
}
