import { isReservedRoom, ParleyError, type ChatMessage } from '@parley/protocol';
import { syncPage } from '../../domain/paging.ts';
import { socketBucket } from '../buckets.ts';
import { emitToRoom } from '../emit.ts';
import { eventHandlers } from '../handle.ts';
import { userRoom, type MainServer, type MainSocket, type RealtimeDeps } from '../types.ts';

/** message / chatMessage / privateMessage / syncPrivate / typing / stopTyping. */
export function registerChatHandlers(io: MainServer, socket: MainSocket, deps: RealtimeDeps): void {
  const { log, messageWriter, config } = deps;
  const user = socket.data.user;
  const typingBucket = socketBucket(socket, 'typing', config);
  // The socket's bucket first (cheap), then the user's budget, shared by all its sockets and nodes.
  const send = { bucket: socketBucket(socket, 'send', config), budget: deps.userBudget };
  const on = eventHandlers(socket, log, '/');

  // The lesson's first exercise: echo to the sender, relay to the others, broadcast to all.
  on('message', send, (data) => {
    if (data === undefined) throw new ParleyError('invalid_payload', 'message needs a payload');
    socket.emit('response', { message: 'Received' });
    socket.broadcast.emit('newMessage', data);
    // Own copy first (see emitToRoom): through the Redis adapter it would come after the ack.
    socket.emit('broadcast', data);
    socket.broadcast.emit('broadcast', data);
  });

  on('chatMessage', send, async (payload) => {
    const { room, text, clientId } =
      typeof payload === 'string' ? { room: socket.data.currentRoom, text: payload, clientId: undefined } : payload;
    if (room === undefined) throw new ParleyError('invalid_payload', 'Join a room first or send {room, text}');
    if (isReservedRoom(room) || !socket.rooms.has(room)) throw new ParleyError('forbidden', `Not in room "${room}"`);
    const createdAt = new Date();
    const { id, position, duplicate } = await messageWriter.submit({ room, authorId: user.id, text, createdAt, clientId });
    // A retry of a stored message: not broadcast again. Its first node may have died between
    // storing and broadcasting it, so the room hears where it is: members without it fetch it.
    if (duplicate) {
      emitToRoom(socket, room, 'resync', { reason: 'retry', room, position });
      return { id, position };
    }
    const message: ChatMessage = { id, room, username: user.username, userId: user.id, text, timestamp: createdAt.toISOString(), position };
    emitToRoom(socket, room, 'message', message);
    return { id, position };
  });

  on('privateMessage', send, async ({ to, message, clientId }) => {
    if (to !== user.id && (await deps.userLookup.submit(to)) === null) throw new ParleyError('not_found', `No user ${to}`);
    const createdAt = new Date();
    const stored = await messageWriter.submit({ authorId: user.id, recipientId: to, text: message, createdAt, clientId });
    const { id, position } = stored;
    if (stored.duplicate) {
      // As for chat: not sent again, but each side hears where it is in its private stream.
      if (to !== user.id) io.to(userRoom(to)).emit('resync', { reason: 'retry', position: stored.recipientPosition ?? position });
      io.to(userRoom(user.id)).except(socket.id).emit('resync', { reason: 'retry', position });
      return { id, position };
    }
    const payload = { id, from: user.id, fromUsername: user.username, to, message, timestamp: createdAt.toISOString() };
    // Each side gets the message at its place in its own private stream: every device of the
    // recipient, and the sender's other devices (not this socket).
    if (to !== user.id) io.to(userRoom(to)).emit('privateMessage', { ...payload, position: stored.recipientPosition ?? position });
    io.to(userRoom(user.id))
      .except(socket.id)
      .emit('privateMessage', { ...payload, position, ...(clientId === undefined ? {} : { clientId }) });
    return { id, position };
  });

  // Catch-up reads are charged to the room-events bucket, like 'sync'.
  on('syncPrivate', { bucket: socketBucket(socket, 'rooms', config) }, (request) => {
    const { messages } = deps.repos;
    return syncPage(
      request,
      (cursor, count) => messages.privateSince(user.id, cursor, count),
      () => messages.privatePosition(user.id),
    );
  });

  for (const event of ['typing', 'stopTyping'] as const) {
    on(event, { bucket: typingBucket }, ({ room }) => {
      if (isReservedRoom(room) || !socket.rooms.has(room)) throw new ParleyError('forbidden', `Not in room "${room}"`);
      socket.to(room).emit(event, { user: user.username, room });
    });
  }
}
