import type { Stats } from '@parley/protocol';
import type { Presence, PresenceChange, PresenceEviction, PresenceMember } from './presence.ts';

interface Entry {
  username: string;
  sockets: Set<string>;
}

/** Presence for a single node: rooms -> users (insertion ordered) -> their sockets. */
export class MemoryPresence implements Presence {
  private readonly rooms = new Map<string, Map<number, Entry>>();
  private connections = 0;

  constructor(private readonly nodeId: string) {}

  async join(room: string, member: PresenceMember): Promise<PresenceChange> {
    let users = this.rooms.get(room);
    if (!users) this.rooms.set(room, (users = new Map<number, Entry>()));
    let entry = users.get(member.userId);
    const changed = !entry;
    if (!entry) users.set(member.userId, (entry = { username: member.username, sockets: new Set() }));
    entry.sockets.add(member.socketId);
    return { room, users: this.names(users), changed };
  }

  async leave(room: string, member: PresenceMember): Promise<PresenceChange> {
    const users = this.rooms.get(room);
    const entry = users?.get(member.userId);
    if (!users || !entry || !entry.sockets.delete(member.socketId)) {
      return { room, users: users ? this.names(users) : [], changed: false };
    }
    const changed = entry.sockets.size === 0;
    if (changed) users.delete(member.userId);
    if (users.size === 0) this.rooms.delete(room);
    return { room, users: this.names(users), changed };
  }

  async users(room: string): Promise<string[]> {
    const users = this.rooms.get(room);
    return users ? this.names(users) : [];
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

  async withdraw(): Promise<PresenceEviction[]> {
    // The whole "cluster" goes away with this node: nobody is left to tell.
    this.rooms.clear();
    return [];
  }

  async start(): Promise<void> {}

  async close(): Promise<void> {
    this.rooms.clear();
  }

  private names(users: Map<number, Entry>): string[] {
    return Array.from(users.values(), (e) => e.username);
  }
}
