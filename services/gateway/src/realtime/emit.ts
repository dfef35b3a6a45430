import type { MainServerToClient } from '@parley/protocol';
import type { MainSocket } from './types.ts';

type Event = keyof MainServerToClient;

/**
 * `event` to everyone in `room`, `socket` (a member) included: its own copy at once, the others'
 * through the adapter. `io.to(room).emit` reaches the same sockets, but the Redis adapter
 * delivers even to this node's sockets only once its publish is acknowledged, i.e. after the
 * ack the handler is about to send; the sender must get its own events before its ack, as on a
 * single node.
 */
export function emitToRoom<E extends Event>(socket: MainSocket, room: string, event: E, ...args: Parameters<MainServerToClient[E]>): void {
  socket.emit(event, ...args);
  socket.to(room).emit(event, ...args);
}
