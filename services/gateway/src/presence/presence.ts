import type { Stats } from '@parley/protocol';

/** Who is in which room, cluster-wide in Redis mode, node-local in single-node mode. */
export interface PresenceMember {
  socketId: string;
  userId: number;
  username: string;
}

export interface PresenceChange {
  room: string;
  /** Usernames in the room, each once, in the order they arrived. */
  users: string[];
  /** True when the user's first socket arrived / last socket left, i.e. the user list changed. */
  changed: boolean;
}

/** A user removed without leaving, e.g. because the node holding their sockets died. */
export interface PresenceEviction {
  room: string;
  username: string;
  users: string[];
}

export interface Presence {
  /** Register this node (heartbeats, clean-up of dead nodes' members where there is a cluster). */
  start(): Promise<void>;
  join(room: string, member: PresenceMember): Promise<PresenceChange>;
  leave(room: string, member: PresenceMember): Promise<PresenceChange>;
  users(room: string): Promise<string[]>;
  /** Called when members vanish without leaving (another node died). */
  onEviction(listener: (eviction: PresenceEviction) => void): void;
  /** This node now holds `count` client connections (for `stats`). */
  setConnections(count: number): void;
  /** Connections per live node, their sum, and rooms with members, cluster-wide. */
  stats(): Promise<Stats>;
  /**
   * Remove every member this node holds (graceful shutdown) and return who left which room
   * for good; later `leave` calls are no-ops.
   */
  withdraw(): Promise<PresenceEviction[]>;
  close(): Promise<void>;
}
