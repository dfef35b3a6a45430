import type { Redis } from 'ioredis';
import type { Stats } from '@parley/protocol';
import type { Presence, PresenceChange, PresenceEviction, PresenceMember } from './presence.ts';
import * as scripts from './redis-presence-scripts.ts';

export interface RedisPresenceOptions {
  /** This node's id; its share of the presence is filed under it. */
  nodeId: string;
  /** Keys live under '{<keyPrefix>}:presence:'. @default 'parley' */
  keyPrefix?: string;
  /** A node whose heartbeat is older than this is dead and reaped. @default 6 */
  ttlSec?: number;
  /** Heartbeat and reaper sweep period. @default ttlSec * 1000 / 3 */
  intervalMs?: number;
  log: { warn(obj: object, msg: string): void };
}

interface Share {
  room: string;
  userId: number;
  username: string;
  sockets: number;
}

type Script = keyof typeof COMMANDS;
const COMMANDS = {
  parleyJoin: scripts.JOIN,
  parleyLeave: scripts.LEAVE,
  parleyUsers: scripts.USERS,
  parleyHeartbeat: scripts.HEARTBEAT,
  parleyRegister: scripts.REGISTER,
  parleyReap: scripts.REAP,
  parleyWithdraw: scripts.WITHDRAW,
  parleyStats: scripts.STATS,
} as const;

type RawEviction = [room: string, username: string, users: string[]];

/**
 * Cluster-wide presence in Redis. Every node files its sockets under its own id and
 * heartbeats; a sweep (one node at a time, under a lock) removes the share of any node whose
 * heartbeat expired and reports who left. The node keeps a mirror of its own share, so it can
 * put it back when Redis forgets it (a restart without persistence).
 *
 * @example
 * const presence = new RedisPresence(redis, { nodeId: 'node-1', log });
 * presence.onEviction((e) => announceLeave(e.room, e.username, e.users));
 * await presence.start();
 */
export class RedisPresence implements Presence {
  private readonly base: string;
  private readonly ttlMs: number;
  private readonly intervalMs: number;
  private readonly mirror = new Map<string, Share>();
  private readonly listeners: ((e: PresenceEviction) => void)[] = [];
  private connections = 0;
  private connectionsQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private withdrawn = false;
  private ticking = false;
  /** A command failed (Redis away or too slow): Redis may disagree with the mirror until it is filed again. */
  private stale = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisPresenceOptions,
  ) {
    this.base = `{${options.keyPrefix ?? 'parley'}}:presence:`;
    this.ttlMs = (options.ttlSec ?? 6) * 1000;
    this.intervalMs = options.intervalMs ?? Math.floor(this.ttlMs / 3);
    for (const [name, lua] of Object.entries(COMMANDS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
  }

  /** Register this node and start heartbeats and the reaper sweep. */
  async start(): Promise<void> {
    await this.register();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async join(room: string, member: PresenceMember): Promise<PresenceChange> {
    const key = `${room}\n${member.userId}`;
    const share = this.mirror.get(key);
    if (share) share.sockets += 1;
    else this.mirror.set(key, { room, userId: member.userId, username: member.username, sockets: 1 });
    const [changed, users] = await this.call<[number, string[]]>('parleyJoin', this.options.nodeId, room, member.userId, member.username);
    return { room, users, changed: changed === 1 };
  }

  async leave(room: string, member: PresenceMember): Promise<PresenceChange> {
    const key = `${room}\n${member.userId}`;
    const share = this.mirror.get(key);
    // Withdrawn: the node's whole share is gone already (and Redis may be closing).
    if (this.withdrawn) return { room, users: [], changed: false };
    if (!share) return { room, users: await this.users(room), changed: false };
    if (--share.sockets === 0) this.mirror.delete(key);
    const [changed, users] = await this.call<[number, string[]]>('parleyLeave', this.options.nodeId, room, member.userId);
    return { room, users, changed: changed === 1 };
  }

  users(room: string): Promise<string[]> {
    return this.call<string[]>('parleyUsers', room);
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
      this.redis.hset(`${this.base}conns`, this.options.nodeId, this.connections).catch((err: unknown) => {
        this.options.log.warn({ err }, 'presence: connection count not saved');
      });
    });
  }

  async stats(): Promise<Stats> {
    const [nodeIds, counts, rooms] = await this.call<[string[], number[], number]>('parleyStats');
    const nodes = nodeIds.map((nodeId, i) => ({ nodeId, connections: counts[i] ?? 0 }));
    return { nodes, connections: nodes.reduce((sum, n) => sum + n.connections, 0), rooms };
  }

  async withdraw(): Promise<PresenceEviction[]> {
    this.stop();
    this.withdrawn = true;
    this.mirror.clear();
    return toEvictions(await this.call<RawEviction[]>('parleyWithdraw', this.options.nodeId));
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
      const known = await this.call<number>('parleyHeartbeat', this.options.nodeId, this.ttlMs, this.connections);
      if (known === 0) {
        this.stale = false;
        await this.register();
        // Logged once the share is back (tests await this line).
        this.options.log.warn({ nodeId: this.options.nodeId, entries: this.mirror.size }, 'presence: re-registered after Redis lost it');
      } else if (this.stale) {
        this.stale = false;
        await this.register();
        this.options.log.warn(
          { nodeId: this.options.nodeId, entries: this.mirror.size },
          'presence: share filed again after failed commands',
        );
      }
      const evictions = toEvictions(await this.call<RawEviction[]>('parleyReap', this.options.nodeId, this.intervalMs - 50));
      for (const eviction of evictions) for (const listener of this.listeners) listener(eviction);
    } catch (err) {
      this.options.log.warn({ err }, 'presence: heartbeat or sweep failed');
    } finally {
      this.ticking = false;
    }
  }

  private register(): Promise<unknown> {
    const args: (string | number)[] = [this.options.nodeId, this.ttlMs, this.connections];
    for (const s of this.mirror.values()) args.push(s.room, s.userId, s.username, s.sockets);
    return this.call('parleyRegister', ...args);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private call<T>(script: Script, ...args: (string | number)[]): Promise<T> {
    const fn = (this.redis as unknown as Record<Script, (...a: (string | number)[]) => Promise<T>>)[script];
    return fn.call(this.redis, this.base, ...args).catch((err: unknown) => {
      this.stale = true;
      throw err;
    });
  }
}

function toEvictions(raw: RawEviction[]): PresenceEviction[] {
  return raw.map(([room, username, users]) => ({ room, username, users }));
}
