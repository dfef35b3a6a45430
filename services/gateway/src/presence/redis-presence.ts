import type { RedisClient } from '../pubsub/redis-client.ts';
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
import { presenceKeys, type PresenceKeys } from './redis-presence-keys.ts';
import * as scripts from './redis-presence-scripts.ts';

export interface RedisPresenceOptions extends PresenceOptions {
  /** This node's id; its share of the presence is filed under it. */
  nodeId: string;
  /** Key prefix (see redis-presence-keys.ts). @default 'parley' */
  keyPrefix?: string;
  /** A node whose heartbeat is older than this is dead and reaped. @default 6 */
  ttlSec?: number;
  /** Heartbeat and reaper sweep period. @default ttlSec * 1000 / 3 */
  intervalMs?: number;
  log: { warn(obj: object, msg: string): void };
}

/** This node's sockets of one user in one room. */
interface Share {
  username: string;
  sockets: number;
}

/** Each script with the number of KEYS it declares. */
const COMMANDS = {
  parleyJoin: [scripts.JOIN, 6],
  parleyLeave: [scripts.LEAVE, 6],
  parleyUsers: [scripts.USERS, 6],
  parleyDrop: [scripts.DROP, 6],
  parleySetShare: [scripts.SET_SHARE, 6],
  parleyFlush: [scripts.FLUSH, 7],
  parleyHeartbeat: [scripts.HEARTBEAT, 2],
  parleyRegister: [scripts.REGISTER, 4],
  parleyReap: [scripts.REAP, 4],
  parleyWithdraw: [scripts.WITHDRAW, 3],
  parleyForget: [scripts.FORGET, 2],
  parleyStats: [scripts.STATS, 2],
} as const;
type Script = keyof typeof COMMANDS;

type RawChange = [changed: number, coalesced: number, users: string[], count: number];
type RawDrop = [coalesced: number, users: string[], count: number, left: string[]];
type RawFlush = [0] | [1, number] | [2, number, number, string[], number];

/**
 * Cluster-wide presence in Redis. Every node files its sockets under its own id, room by room,
 * and heartbeats; a sweep (one node at a time, under a lock) drops the shares of any node whose
 * heartbeat expired and reports who left. The node keeps a mirror of its own share, so it can
 * put it back when Redis forgets it (a restart without persistence). Every call costs
 * O(ROOM_USERS_MAX) at most in Redis and on the wire, whatever the room's size.
 *
 * @example
 * const presence = new RedisPresence(redis, { nodeId: 'node-1', log });
 * presence.onEviction((e) => announcer.evicted(e));
 * await presence.start();
 */
export class RedisPresence implements Presence {
  private readonly keys: PresenceKeys;
  private readonly ttlMs: number;
  private readonly intervalMs: number;
  private readonly usersMax: number;
  private readonly coalesceAbove: number;
  /** room -> userId -> this node's sockets of the user there. */
  private readonly mirror = new Map<string, Map<number, Share>>();
  private readonly listeners: ((e: PresenceEviction) => void)[] = [];
  private connections = 0;
  private connectionsQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private withdrawn = false;
  private ticking = false;
  /** A command failed (Redis away or too slow): Redis may disagree with the mirror until it is filed again. */
  private stale = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisPresenceOptions,
  ) {
    this.keys = presenceKeys(options.keyPrefix ?? 'parley');
    this.ttlMs = (options.ttlSec ?? 6) * 1000;
    this.intervalMs = options.intervalMs ?? Math.floor(this.ttlMs / 3);
    this.usersMax = options.usersMax ?? PRESENCE_DEFAULTS.usersMax;
    this.coalesceAbove = options.coalesceAbove ?? PRESENCE_DEFAULTS.coalesceAbove;
    for (const [name, [lua, numberOfKeys]] of Object.entries(COMMANDS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys, lua });
    }
  }

  /** Register this node and start heartbeats and the reaper sweep. */
  async start(): Promise<void> {
    await this.register();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async join(room: string, member: PresenceMember): Promise<PresenceChange> {
    let shares = this.mirror.get(room);
    // This node's first socket in the room: list the room under the node first (commands run in
    // the order they are sent, so the node's room set never misses a room it has a share of).
    const first = !shares;
    if (!shares) this.mirror.set(room, (shares = new Map<number, Share>()));
    const share = shares.get(member.userId);
    if (share) share.sockets += 1;
    else shares.set(member.userId, { username: member.username, sockets: 1 });
    const listed = first ? this.redis.sadd(this.keys.registry.rooms(this.options.nodeId), room) : undefined;
    const raw = this.roomCall<RawChange>('parleyJoin', room, [member.userId, member.username, this.usersMax, this.coalesceAbove]);
    await listed;
    return toChange(room, await raw);
  }

  async leave(room: string, member: PresenceMember): Promise<PresenceChange> {
    // Withdrawn: the node's whole share is gone already (and Redis may be closing).
    if (this.withdrawn) return { room, users: [], count: 0, changed: false, coalesced: false };
    const shares = this.mirror.get(room);
    const share = shares?.get(member.userId);
    if (!shares || !share) return { ...(await this.users(room)), changed: false, coalesced: false };
    if (--share.sockets === 0) shares.delete(member.userId);
    const raw = this.roomCall<RawChange>('parleyLeave', room, [member.userId, this.usersMax, this.coalesceAbove]);
    // The node's last socket there: unlist the room, after the script (sent in this order).
    if (shares.size === 0) {
      this.mirror.delete(room);
      await Promise.all([raw, this.redis.srem(this.keys.registry.rooms(this.options.nodeId), room)]);
    }
    return toChange(room, await raw);
  }

  async users(room: string): Promise<RoomUsers> {
    const [users, count] = await this.roomCall<[string[], number]>('parleyUsers', room, [this.usersMax]);
    return { room, users, count };
  }

  async flush(room: string, windowMs: number): Promise<FlushResult> {
    const { keys, window } = this.keys.room(room, this.options.nodeId);
    const raw = await this.call<RawFlush>('parleyFlush', ...keys, window, windowMs, this.usersMax);
    if (raw[0] === 0) return { kind: 'idle' };
    if (raw[0] === 1) return { kind: 'wait', ms: raw[1] };
    const [, joined, left, users, count] = raw;
    return { kind: 'send', joined, left, room, users, count };
  }

  onEviction(listener: (eviction: PresenceEviction) => void): void {
    this.listeners.push(listener);
  }

  setConnections(count: number): void {
    this.connections = count;
    // Coalesced: a connection storm writes the latest count once per turn, not once per socket.
    if (this.withdrawn || this.connectionsQueued) return;
    this.connectionsQueued = true;
    setImmediate(() => {
      this.connectionsQueued = false;
      if (this.withdrawn) return;
      this.redis.hset(this.keys.registry.conns, this.options.nodeId, this.connections).catch((err: unknown) => {
        this.options.log.warn({ err }, 'presence: connection count not saved');
      });
    });
  }

  async stats(): Promise<Stats> {
    const [nodeIds, counts] = await this.liveNodes();
    const nodes = nodeIds.map((nodeId, i) => ({ nodeId, connections: counts[i] ?? 0 }));
    const rooms = await this.roomCount(nodeIds.map((nodeId) => this.keys.registry.rooms(nodeId)));
    return { nodes, connections: nodes.reduce((sum, n) => sum + n.connections, 0), rooms };
  }

  /**
   * The live nodes' room sets in one SUNION (one hash slot), then one HLEN per room of the page:
   * O(rooms) names over the wire (like `stats`), O(limit) counts. A room whose last user left
   * meanwhile is left out of the page.
   */
  async listRooms(after: string | undefined, limit: number): Promise<RoomList> {
    const [nodeIds] = await this.liveNodes();
    if (nodeIds.length === 0) return { rooms: [], hasMore: false };
    const all = await this.redis.sunion(...nodeIds.map((nodeId) => this.keys.registry.rooms(nodeId)));
    const { names, hasMore } = roomPage(all, after, limit);
    const counts = await Promise.all(names.map((room) => this.redis.hlen(this.keys.room(room, this.options.nodeId).keys[0]!)));
    return { rooms: names.map((room, i) => ({ room, count: counts[i]! })).filter((r) => r.count > 0), hasMore };
  }

  async withdraw(): Promise<PresenceEviction[]> {
    this.stop();
    this.withdrawn = true;
    this.mirror.clear();
    const { nodes, conns, dead } = this.keys.registry;
    await this.call('parleyWithdraw', nodes, conns, dead, this.options.nodeId);
    return this.dropShares(this.options.nodeId);
  }

  async close(): Promise<void> {
    this.stop();
  }

  /** One sweep: heartbeat (re-registering if Redis forgot us), then reap dead nodes. */
  private async tick(): Promise<void> {
    // A slow Redis must not pile sweeps up.
    if (this.ticking) return;
    this.ticking = true;
    try {
      const { nodes, conns, dead, reaper } = this.keys.registry;
      const known = await this.call<number>('parleyHeartbeat', nodes, conns, this.options.nodeId, this.ttlMs, this.connections);
      if (known === 0) {
        this.stale = false;
        await this.register();
        // Logged once the share is back (tests await this line).
        this.options.log.warn({ nodeId: this.options.nodeId, rooms: this.mirror.size }, 'presence: re-registered after Redis lost it');
      } else if (this.stale) {
        this.stale = false;
        await this.register();
        this.options.log.warn(
          { nodeId: this.options.nodeId, rooms: this.mirror.size },
          'presence: share filed again after failed commands',
        );
      }
      const deadNodes = await this.call<string[]>('parleyReap', nodes, conns, dead, reaper, this.options.nodeId, this.intervalMs - 50);
      for (const node of deadNodes) {
        for (const eviction of await this.dropShares(node)) for (const listener of this.listeners) listener(eviction);
      }
    } catch (err) {
      this.options.log.warn({ err }, 'presence: heartbeat or sweep failed');
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Drop a departed node's share of each of its rooms, room by room (each room is one atomic
   * script), and forget the node once none is left; returns who left. Stops if the node comes
   * back meanwhile (it re-registered: its shares are its own again).
   */
  private async dropShares(node: string): Promise<PresenceEviction[]> {
    const { dead } = this.keys.registry;
    const roomsKey = this.keys.registry.rooms(node);
    const evictions: PresenceEviction[] = [];
    for (const room of await this.redis.smembers(roomsKey)) {
      if ((await this.redis.sismember(dead, node)) === 0) return evictions;
      const [coalesced, users, count, left] = await this.roomCall<RawDrop>('parleyDrop', room, [this.usersMax, this.coalesceAbove], node);
      await this.redis.srem(roomsKey, room);
      if (coalesced === 1 || left.length > 0) evictions.push({ room, users, count, left, coalesced: coalesced === 1 });
    }
    await this.call('parleyForget', dead, roomsKey, node);
    return evictions;
  }

  /** Make Redis hold exactly this node's mirror: the registry first, then each room's share. */
  private async register(): Promise<void> {
    const { nodes, conns, dead } = this.keys.registry;
    const nodeId = this.options.nodeId;
    const rooms = [...this.mirror.keys()];
    const before = await this.call<string[]>(
      'parleyRegister',
      nodes,
      conns,
      dead,
      this.keys.registry.rooms(nodeId),
      nodeId,
      this.ttlMs,
      this.connections,
      ...rooms,
    );
    for (const room of new Set([...before, ...rooms])) {
      const args: (string | number)[] = [];
      for (const [userId, s] of this.mirror.get(room) ?? []) args.push(userId, s.username, s.sockets);
      await this.roomCall('parleySetShare', room, args);
    }
  }

  /** The nodes whose heartbeat is current, and the connections each reported. */
  private liveNodes(): Promise<[nodeIds: string[], connections: number[]]> {
    const { nodes, conns } = this.keys.registry;
    return this.call<[string[], number[]]>('parleyStats', nodes, conns);
  }

  /** Rooms in any of these node room sets, counted in Redis (they share one hash slot). */
  private async roomCount(sets: string[]): Promise<number> {
    if (sets.length === 0) return 0;
    const tmp = `${this.keys.registry.rooms(this.options.nodeId)}:stats`;
    const [[err, count] = []] =
      (await this.redis
        .multi()
        .sunionstore(tmp, ...sets)
        .del(tmp)
        .exec()) ?? [];
    if (err) throw err;
    return count as number;
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A room script on `room`'s keys, with `owner`'s share of the room. */
  private roomCall<T>(script: Script, room: string, args: (string | number)[], owner = this.options.nodeId): Promise<T> {
    return this.call<T>(script, ...this.keys.room(room, owner).keys, ...args);
  }

  private call<T>(script: Script, ...args: (string | number)[]): Promise<T> {
    const fn = (this.redis as unknown as Record<Script, (...a: (string | number)[]) => Promise<T>>)[script];
    return fn.call(this.redis, ...args).catch((err: unknown) => {
      this.stale = true;
      throw err;
    });
  }
}

function toChange(room: string, [changed, coalesced, users, count]: RawChange): PresenceChange {
  return { room, users, count, changed: changed === 1, coalesced: coalesced === 1 };
}
