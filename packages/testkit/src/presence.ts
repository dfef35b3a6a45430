import type { Config } from '@parley/config';
import { presenceKeys } from '@parley/gateway/presence-keys';
import { createRedisClient } from '@parley/gateway/redis-client';

export interface SimulatedMembers {
  /** REDIS_KEY_PREFIX of the nodes that are to see them. */
  keyPrefix: string;
  room: string;
  count: number;
  /** Names are `<namePrefix><i>`, user ids `firstUserId + i`. @default 'sim' */
  namePrefix?: string;
  /** @default 1_000_000 */
  firstUserId?: number;
}

/**
 * Put `count` users without sockets into `room`, straight in Redis (as the nodes' presence
 * files them), after the room's current users: a room of 100,000 members without 100,000
 * sockets. They belong to a node that never registered, so no sweep removes them; the
 * prefix's clean-up does. Resolves with their names in arrival order.
 */
export async function simulateRoomMembers(
  store: Pick<Config['redis'], 'url' | 'clusterNodes'>,
  members: SimulatedMembers,
): Promise<string[]> {
  const { keyPrefix, room, count, namePrefix = 'sim', firstUserId = 1_000_000 } = members;
  const [membersKey, order, names, seq, , share] = presenceKeys(keyPrefix).room(room, 'simulated').keys as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // One Redis or the cluster: a room's keys share one hash slot, so each pipeline goes to one node.
  const redis = createRedisClient(store);
  if (!redis) throw new Error('simulateRoomMembers: no Redis configured');
  try {
    const first = (await redis.incrby(seq, count)) - count + 1;
    const all: string[] = [];
    const chunk = 1000;
    for (let start = 0; start < count; start += chunk) {
      const counts: (string | number)[] = [];
      const scores: (string | number)[] = [];
      const named: (string | number)[] = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        const uid = firstUserId + i;
        const name = `${namePrefix}${i}`;
        all.push(name);
        counts.push(uid, 1);
        scores.push(first + i, uid);
        named.push(uid, name);
      }
      await redis
        .pipeline()
        .hset(membersKey, ...counts)
        .hset(share, ...counts)
        .zadd(order, ...scores)
        .hset(names, ...named)
        .exec();
    }
    return all;
  } finally {
    redis.disconnect();
  }
}
