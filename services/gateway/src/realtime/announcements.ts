import type { FastifyBaseLogger } from 'fastify';
import type { RoomUsers, SystemMessage } from '@parley/protocol';
import type { Presence, PresenceChange, PresenceEviction } from '../presence/presence.ts';
import type { Announcer, MainServer } from './types.ts';

export function systemMessage(room: string, text: string): SystemMessage {
  return { username: 'System', text, timestamp: new Date().toISOString(), room };
}

/** "3 users joined", "1 user left", "12 users joined, 3 left". */
export function summaryText(joined: number, left: number): string {
  const users = (n: number) => `${n} user${n === 1 ? '' : 's'}`;
  if (joined === 0) return `${users(left)} left`;
  return left === 0 ? `${users(joined)} joined` : `${users(joined)} joined, ${left} left`;
}

export function rosterOf({ room, users, count }: RoomUsers): RoomUsers {
  return { room, users, count };
}

/**
 * Tells a room who arrived and who left. A small room hears each change at once ("<name> has
 * left" and its `roomUsers`); a big one (more than ROOM_COALESCE_ABOVE users, see
 * `PresenceChange.coalesced`) hears at most one summary message and one `roomUsers` per
 * window, cluster-wide: the first change after a quiet window goes out at once, the next ones
 * together when the window ends. Each node flushes only rooms where it saw a change; presence
 * keeps the pending summary, so whichever node flushes sends every node's changes.
 */
export class RoomAnnouncer implements Announcer {
  /** Rooms with a flush running or waiting for its window, and whether to flush again after it. */
  private readonly flushing = new Map<string, { again: boolean; timer?: NodeJS.Timeout }>();
  private closed = false;

  constructor(
    private readonly io: MainServer,
    private readonly presence: Presence,
    private readonly windowMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The user's last socket left `room` (a `leave` of presence). */
  left(room: string, username: string, change: PresenceChange): void {
    if (!change.changed) return;
    if (change.coalesced) return this.schedule(room);
    this.io.to(room).emit('message', systemMessage(room, `${username} has left`));
    this.io.to(room).emit('roomUsers', rosterOf(change));
  }

  /** Users whose node died or withdrew. */
  evicted(eviction: PresenceEviction): void {
    if (eviction.coalesced) return this.schedule(eviction.room);
    for (const username of eviction.left) this.io.to(eviction.room).emit('message', systemMessage(eviction.room, `${username} has left`));
    this.io.to(eviction.room).emit('roomUsers', rosterOf(eviction));
  }

  /** A coalesced change happened in `room`: make sure a flush of it comes. */
  schedule(room: string): void {
    const state = this.flushing.get(room);
    if (state) {
      // A flush is running (it may have read the summary already) or waiting: flush after it.
      if (state.timer === undefined) state.again = true;
      return;
    }
    this.flushing.set(room, { again: false });
    void this.flush(room);
  }

  /** Stop the waiting flushes (the node is closing; another node's next change sends the rest). */
  close(): void {
    this.closed = true;
    for (const state of this.flushing.values()) clearTimeout(state.timer);
    this.flushing.clear();
  }

  private async flush(room: string): Promise<void> {
    const state = this.flushing.get(room);
    if (!state || this.closed) return;
    state.again = false;
    state.timer = undefined;
    try {
      const result = await this.presence.flush(room, this.windowMs);
      if (result.kind === 'wait') {
        state.timer = setTimeout(() => void this.flush(room), result.ms);
        state.timer.unref();
        return;
      }
      if (result.kind === 'send') {
        this.io.to(room).emit('message', systemMessage(room, summaryText(result.joined, result.left)));
        this.io.to(room).emit('roomUsers', rosterOf(result));
      }
    } catch (err) {
      this.log.warn({ err, room }, 'presence: coalesced announcement failed');
    }
    if (state.again && !this.closed) return void this.flush(room);
    this.flushing.delete(room);
  }
}
