import type { Stats } from '@parley/protocol';

/**
 * Figures for the admin 'stats' event. The presence provides them: one node in memory, or
 * every live node from Redis (`RedisPresence.stats()`).
 */
export interface ClusterStats {
  snapshot(): Promise<Stats>;
}
