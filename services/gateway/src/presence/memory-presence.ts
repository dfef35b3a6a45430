import type { RoomList, RoomUsers, Stats } from '@parley/protocol';
import {
  PRESENCE_DEFAULTS,
  roomPage,
  type FlushResult,
  type Presence,
  type PresenceChange,
  type PresenceEviction,
  type PresenceMember,
  type PresenceOptions,
} from './presence.ts';

interface Entry {
  username: string;
  sockets: Set<string>;
}

interface Room {
  /** Users in arrival order (a Map keeps insertion order). */
  users: Map<number, Entry>;
  joined: number;
  left: number;
  /** When the window of the last summary ends (ms, performance.now()). */
  windowEnds: number;
}

/** Presence for a single node: rooms -> users (insertion ordered) -> their sockets. */
export class MemoryPresence implements Presence {
  private readonly rooms = new Map<string, Room>();
  private readonly usersMax: number;
  private readonly coalesceAbove: number;
  private connections = 0;

  constructor(
    private readonly nodeId: string,
    options: PresenceOptions = {},
  ) {
    this.usersMax = options.usersMax ?? PRESENCE_DEFAULTS.usersMax;
    this.coalesceAbove = options.coalesceAbove ?? PRESENCE_DEFAULTS.coalesceAbove;
  }

  async join(room: string, member: PresenceMember): Promise<PresenceChange> {
    let r = this.rooms.get(room);
    if (!r) this.rooms.set(room, (r = { users: new Map(), joined: 0, left: 0, windowEnds: -Infinity }));
    let entry = r.users.get(member.userId);
    const changed = !entry;
    if (!entry) r.users.set(member.userId, (entry = { username: member.username, sockets: new Set() }));
    entry.sockets.add(member.socketId);
    const coalesced = r.users.size > this.coalesceAbove;
    if (changed && coalesced) r.joined += 1;
    return { ...this.roster(room, r), changed, coalesced };
  }

  async leave(room: string, member: PresenceMember): Promise<PresenceChange> {
    const r = this.rooms.get(room);
    const entry = r?.users.get(member.userId);
    if (!r || !entry || !entry.sockets.delete(member.socketId)) {
      return { ...(await this.users(room)), changed: false, coalesced: false };
    }
    const coalesced = r.users.size > this.coalesceAbove;
    const changed = entry.sockets.size === 0;
    if (changed) {
      r.users.delete(member.userId);
      if (coalesced) r.left += 1;
    }
    if (r.users.size === 0) this.rooms.delete(room);
    if (coalesced) return { room, users: [], count: r.users.size, changed, coalesced };
    return { ...this.roster(room, r), changed, coalesced };
  }

  async users(room: string): Promise<RoomUsers> {
    const r = this.rooms.get(room);
    return r ? this.roster(room, r) : { room, users: [], count: 0 };
  }

  async flush(room: string, windowMs: number): Promise<FlushResult> {
    const r = this.rooms.get(room);
    if (!r || (r.joined === 0 && r.left === 0)) return { kind: 'idle' };
    const now = performance.now();
    if (now < r.windowEnds) return { kind: 'wait', ms: Math.ceil(r.windowEnds - now) };
    const { joined, left } = r;
    r.joined = r.left = 0;
    r.windowEnds = now + windowMs;
    return { kind: 'send', joined, left, ...this.roster(room, r) };
  }

  onEviction(): void {
    // A single node never loses members to another node.
  }

  setConnections(count: number): void {
    this.connections = count;
  }

  async stats(): Promise<Stats> {
    return { nodes: [{ nodeId: this.nodeId, connections: this.connections }], connections: this.connections, rooms: this.rooms.size };
  }

  async listRooms(after: string | undefined, limit: number): Promise<RoomList> {
    const { names, hasMore } = roomPage(this.rooms.keys(), after, limit);
    return { rooms: names.map((room) => ({ room, count: this.rooms.get(room)!.users.size })), hasMore };
  }

  async withdraw(): Promise<PresenceEviction[]> {
    // The whole "cluster" goes away with this node: nobody is left to tell.
    this.rooms.clear();
    return [];
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.rooms.clear();
  }

  /** The first `usersMax` arrivals and the count: O(usersMax), whatever the room's size. */
  private roster(room: string, r: Room): RoomUsers {
    const users: string[] = [];
    for (const entry of r.users.values()) {
      if (users.length === this.usersMax) break;
      users.push(entry.username);
    }
    return { room, users, count: r.users.size };
  }
}
