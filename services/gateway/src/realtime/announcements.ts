import type { SystemMessage } from '@parley/protocol';
import type { MainServer } from './types.ts';

export function systemMessage(text: string): SystemMessage {
  return { username: 'System', text, timestamp: new Date().toISOString() };
}

/** Announce that a user's last socket left `room`. */
export function announceLeave(io: MainServer, room: string, username: string, users: string[]): void {
  io.to(room).emit('message', systemMessage(`${username} has left`));
  io.to(room).emit('roomUsers', { room, users });
}
