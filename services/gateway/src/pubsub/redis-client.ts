import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '@parley/config';

/** A connection to one Redis or to a Redis Cluster: Parley uses only what both offer. */
export type RedisClient = Redis | Cluster;

/**
 * Connect to what the configuration names: a Redis Cluster (REDIS_CLUSTER_NODES; sharded
 * Pub/Sub goes to each channel's own shard), one Redis (REDIS_URL), or nothing (undefined).
 * `options` apply to every connection (each cluster node's too).
 */
export function createRedisClient(
  redis: Pick<Config['redis'], 'url' | 'clusterNodes'>,
  options: RedisOptions = {},
): RedisClient | undefined {
  if (redis.clusterNodes) {
    return new Cluster(redis.clusterNodes, {
      redisOptions: options,
      shardedSubscribers: true,
      ...(options.lazyConnect === undefined ? {} : { lazyConnect: options.lazyConnect }),
      ...(options.enableOfflineQueue === undefined ? {} : { enableOfflineQueue: options.enableOfflineQueue }),
    });
  }
  return redis.url ? new Redis(redis.url, options) : undefined;
}
