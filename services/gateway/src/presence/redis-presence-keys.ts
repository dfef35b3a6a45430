/**
 * Where the Redis presence keeps what (the scripts in redis-presence-scripts.ts describe each
 * key). A room's keys share the hash tag `{<room>}` and the node registry's the tag
 * `{<prefix>}`, so that every script touches one hash slot (Redis Cluster).
 */
export interface PresenceKeys {
  /** KEYS of the node scripts: nodes, conns, dead, then what each script adds. */
  registry: { nodes: string; conns: string; dead: string; reaper: string; rooms(nodeId: string): string };
  /** KEYS of a room script (members, order, names, seq, pending, the node's share), then the room's window key. */
  room(room: string, nodeId: string): { keys: string[]; window: string };
}

/** The key layout under `keyPrefix` (REDIS_KEY_PREFIX). */
export function presenceKeys(keyPrefix: string): PresenceKeys {
  const g = `{${keyPrefix}}:presence:`;
  return {
    registry: { nodes: `${g}nodes`, conns: `${g}conns`, dead: `${g}dead`, reaper: `${g}reaper`, rooms: (nodeId) => `${g}rooms:${nodeId}` },
    room(room, nodeId) {
      const r = `${keyPrefix}:presence:{${room}}:`;
      return {
        keys: [`${r}members`, `${r}order`, `${r}names`, `${r}seq`, `${r}pending`, `${r}node:${nodeId}`],
        window: `${r}flush`,
      };
    },
  };
}
