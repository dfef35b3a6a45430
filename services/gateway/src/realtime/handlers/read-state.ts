import { isReservedRoom, ParleyError } from '@parley/protocol';
import { socketBucket } from '../buckets.ts';
import { emitToRoom } from '../emit.ts';
import { eventHandlers } from '../handle.ts';
import { userRoom, type MainSocket, type RealtimeDeps } from '../types.ts';
import { assertMember } from './rooms.ts';

/**
 * readRoom / readConversation / readState / forgetRoom: the user's read cursors. A cursor that
 * moves (or a room that leaves the list) is told to every socket of the user, on every node,
 * this one first (before its ack).
 */
export function registerReadStateHandlers(socket: MainSocket, deps: RealtimeDeps): void {
  const user = socket.data.user;
  const { readState } = deps.repos;
  const bucket = socketBucket(socket, 'reads', deps.config);
  // Moving a cursor writes and tells every device: it spends the user's budget, like a send.
  const write = { bucket, budget: deps.userBudget };
  const on = eventHandlers(socket, deps.log, '/');
  const mine = userRoom(user.id);

  on('readRoom', write, async ({ room, position }) => {
    assertMember(socket, room, 'reading');
    const { readPosition, unread, moved } = await readState.readRoom(user.id, room, position);
    const read = { room, readPosition, unread };
    if (moved) emitToRoom(socket, mine, 'readState', read);
    return read;
  });

  on('readConversation', write, async ({ userId, position }) => {
    const { readPosition, unread, moved } = await readState.readConversation(user.id, userId, position);
    const read = { userId, readPosition, unread };
    if (moved) emitToRoom(socket, mine, 'readState', read);
    return read;
  });

  on('readState', { bucket }, () => readState.state(user.id));

  // Any room of the list may go, joined on this socket or not.
  on('forgetRoom', write, async ({ room }) => {
    if (isReservedRoom(room)) throw new ParleyError('forbidden', `Room "${room}" is reserved`);
    if (await readState.forgetRoom(user.id, room)) emitToRoom(socket, mine, 'roomForgotten', { room });
  });
}
