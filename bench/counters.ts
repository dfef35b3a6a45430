/**
 * Counters a bench target is read at the start and end of each measured window
 * (`LoadOptions.counters`): the round trips each message makes.
 */
import { Redis } from 'ioredis';

export interface CounterSource {
  read(): Promise<Record<string, number>>;
  close(): void;
}

/**
 * Commands the Redis at `url` has run since it started (INFO commandstats): `redis` in all and
 * `redis:<command>` each, leaving out the INFO commands this reader sends.
 */
export function redisCommands(url: string): CounterSource {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectionName: 'bench-counters' });
  return {
    async read() {
      const text = await client.info('commandstats');
      const counters: Record<string, number> = {};
      let all = 0;
      for (const [, name, calls] of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        if (name === 'info') continue;
        counters[`redis:${name}`] = Number(calls);
        all += Number(calls);
      }
      return { redis: all, ...counters };
    },
    close: () => client.disconnect(),
  };
}

/**
 * Parley's message writer on every node, from its /metrics: `db:commits` (group commits, one
 * database round trip each), `db:messages` (the messages they stored), and `db:ok` / `db:seconds`
 * (the round trips that succeeded and the time they took, commit included).
 */
export async function parleyWriter(nodeUrls: string[]): Promise<Record<string, number>> {
  const scrapes = await Promise.all(
    nodeUrls.map(async (url) => {
      const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) throw new Error(`${url}/metrics answered ${response.status}`);
      return response.text();
    }),
  );
  const counters = { 'db:commits': 0, 'db:messages': 0, 'db:ok': 0, 'db:seconds': 0 };
  for (const text of scrapes) {
    const value = (series: string, labels = '') =>
      Number(new RegExp(`^${series}\\{queue="messages"${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    counters['db:commits'] += value('parley_db_batch_size_count');
    counters['db:messages'] += value('parley_db_batch_size_sum');
    counters['db:ok'] += value('parley_db_batch_duration_seconds_count', ',outcome="ok"');
    counters['db:seconds'] += value('parley_db_batch_duration_seconds_sum', ',outcome="ok"');
  }
  return counters;
}
