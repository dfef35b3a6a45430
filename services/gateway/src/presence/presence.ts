import type { RoomList, RoomUsers, Stats } from '@parley/protocol';

/** Who is in which room, cluster-wide in Redis mode, node-local in single-node mode. */
export interface PresenceMember {
  socketId: string;
  userId: number;
  username: string;
}

/** What every back-end is told at construction. */
export interface PresenceOptions {
  /** Names a roster lists at most (the room's first arrivals). @default 1000 */
  usersMax?: number;
  /**
   * A join or leave in a room that has, or had, more users than this is coalesced: counted
   * in the room's pending summary (see `flush`) instead of announced one by one. @default 100
   */
  coalesceAbove?: number;
}

/**
 * The room's roster after a join or leave: `users` are its first arrivals, `count` all of them.
 * A coalesced `leave` leaves `users` empty (nobody is told at once; the summary reads it).
 */
export interface PresenceChange extends RoomUsers {
  /** True when the user's first socket arrived / last socket left, i.e. the user list changed. */
  changed: boolean;
  /** True when the change was counted in the room's pending summary: the caller schedules a `flush`. */
  coalesced: boolean;
}

/** Users removed without leaving (their node died, or this node withdrew), one room at a time. */
export interface PresenceEviction extends RoomUsers {
  /** Names of the users who left, to announce one by one; empty when `coalesced`. */
  left: string[];
  /** True when the departures were counted in the room's pending summary instead. */
  coalesced: boolean;
}

/** The outcome of `flush`: what to send to the room, if anything. */
export type FlushResult =
  | { kind: 'idle' }
  /** The room's window is not over: try again in `ms`. */
  | { kind: 'wait'; ms: number }
  /** Send the summary and the roster to the room: the window starts now. */
  | ({ kind: 'send'; joined: number; left: number } & RoomUsers);

/** Default of `PresenceOptions.usersMax` and `coalesceAbove` (the config's defaults). */
export const PRESENCE_DEFAULTS = { usersMax: 1000, coalesceAbove: 100 } as const;

export interface Presence {
  /** Register this node (heartbeats, clean-up of dead nodes' members where there is a cluster). */
  start(): Promise<void>;
  join(room: string, member: PresenceMember): Promise<PresenceChange>;
  leave(room: string, member: PresenceMember): Promise<PresenceChange>;
  users(room: string): Promise<RoomUsers>;
  /**
   * Take the room's pending summary (coalesced joins and leaves) and its roster, at most once
   * per `windowMs` per room, cluster-wide.
   */
  flush(room: string, windowMs: number): Promise<FlushResult>;
  /** Called when members vanish without leaving (another node died). */
  onEviction(listener: (eviction: PresenceEviction) => void): void;
  /** This node now holds `count` client connections (for `stats`). */
  setConnections(count: number): void;
  /** Connections per live node, their sum, and rooms with members, cluster-wide. */
  stats(): Promise<Stats>;
  /**
   * The rooms with members, cluster-wide, in name order (UTF-16 code units, as `<` compares),
   * the first `limit` after `after`, each with its count of distinct users.
   */
  listRooms(after: string | undefined, limit: number): Promise<RoomList>;
  /**
   * Remove every member this node holds (graceful shutdown) and return who left which room
   * for good; later `leave` calls are no-ops.
   */
  withdraw(): Promise<PresenceEviction[]>;
  close(): Promise<void>;
}

/**
 * The names of a `listRooms` page: those after `after` (all when undefined), sorted, at most
 * `limit`; `hasMore` when more follow.
 */
export function roomPage(names: Iterable<string>, after: string | undefined, limit: number): { names: string[]; hasMore: boolean } {
  const following = [...names].filter((name) => after === undefined || name > after).sort();
  return { names: following.slice(0, limit), hasMore: following.length > limit };
}
