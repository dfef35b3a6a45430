/**
 * One page of at most `limit` rows and whether more follow: `fetch` is asked for one row more
 * than the page holds, so no count query is needed.
 */
export async function pageOf<T>(fetch: (count: number) => Promise<T[]>, limit: number): Promise<{ messages: T[]; hasMore: boolean }> {
  const rows = await fetch(limit + 1);
  const hasMore = rows.length > limit;
  return { messages: hasMore ? rows.slice(0, limit) : rows, hasMore };
}
