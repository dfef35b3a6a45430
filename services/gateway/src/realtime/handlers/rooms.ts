import { isReservedRoom, MAX_ROOMS_PER_SOCKET, ParleyError } from '@parley/protocol';
import type { PresenceChange, PresenceMember } from '../../presence/presence.ts';
import { rosterOf, systemMessage } from '../announcements.ts';
import { socketBucket } from '../buckets.ts';
import { emitToRoom } from '../emit.ts';
import { syncPage } from '../../domain/paging.ts';
import { eventHandlers } from '../handle.ts';
import { userRoom, type MainSocket, type RealtimeDeps } from '../types.ts';

function memberOf(socket: MainSocket): PresenceMember {
  return { socketId: socket.id, userId: socket.data.user.id, username: socket.data.user.username };
}

/** Chat rooms the socket is in: not its own socket-id room, not the server-owned ones. */
function chatRooms(socket: MainSocket): string[] {
  return [...socket.rooms].filter((room) => !isReservedRoom(room));
}

/** All or none: throws before anything is joined if any room is reserved or the cap would be passed. */
function assertJoinable(socket: MainSocket, rooms: string[]): void {
  const reserved = rooms.find(isReservedRoom);
  if (reserved !== undefined) throw new ParleyError('forbidden', `Room "${reserved}" is reserved`);
  const added = rooms.filter((room) => !socket.rooms.has(room)).length;
  if (added > 0 && chatRooms(socket).length + added > MAX_ROOMS_PER_SOCKET) {
    throw new ParleyError('forbidden', `At most ${MAX_ROOMS_PER_SOCKET} rooms per connection`);
  }
}

/** The socket may read `room` (its messages, its read cursor): a room it joined, never a reserved one. */
export function assertMember(socket: MainSocket, room: string, doing: string): void {
  if (isReservedRoom(room)) throw new ParleyError('forbidden', `Room "${room}" is reserved`);
  if (!socket.rooms.has(room)) throw new ParleyError('forbidden', `Join "${room}" before ${doing} it`);
}

/** join / joinRoom / leaveRoom / sync, and presence clean-up on disconnect. */
export function registerRoomHandlers(socket: MainSocket, deps: RealtimeDeps): void {
  const { presence, announcer, log } = deps;
  const user = socket.data.user;
  const bucket = socketBucket(socket, 'rooms', deps.config);
  const on = eventHandlers(socket, log, '/');

  /** Joins synchronously (later events see the room), then updates presence. Validate first. */
  function enter(room: string): Promise<PresenceChange> {
    const wasIn = socket.rooms.has(room);
    // The in-memory and Redis adapters join at once (no promise to wait for).
    void socket.join(room);
    if (!wasIn) return presence.join(room, memberOf(socket));
    return presence.users(room).then((roster) => ({ ...roster, changed: false, coalesced: false }));
  }

  /**
   * Put `rooms` in the user's list: a read cursor at each room's end where there is none. Not
   * awaited (a join needs no database); every socket of the user hears of a new cursor.
   */
  function keepInList(rooms: string[]): void {
    for (const room of rooms) {
      deps.roomCursors.submit({ userId: user.id, room }).then(
        (position) => {
          if (position !== null) emitToRoom(socket, userRoom(user.id), 'readState', { room, readPosition: position, unread: 0 });
        },
        (err: unknown) => log.warn({ err, room, userId: user.id }, 'read cursor of a joined room not created (the next join tries again)'),
      );
    }
  }

  on('join', { bucket }, async ({ room }) => {
    assertJoinable(socket, [room]);
    keepInList([room]);
    const entering = enter(room);
    // Set before awaiting: a 'chatMessage' sent right after 'join' must find the room.
    socket.data.currentRoom = room;
    const change = await entering;
    const roster = rosterOf(change);
    socket.emit('message', systemMessage(room, `Welcome to ${room}!`));
    if (change.changed && !change.coalesced) {
      socket.to(room).emit('message', systemMessage(room, `${user.username} has joined`));
      emitToRoom(socket, room, 'roomUsers', roster);
    } else {
      // Unchanged, or a big room: the others hear of it in the room's next summary.
      socket.emit('roomUsers', roster);
      if (change.changed) announcer.schedule(room);
    }
    return roster;
  });

  on('joinRoom', { bucket }, async (rooms) => {
    const list = [...new Set(typeof rooms === 'string' ? [rooms] : rooms)];
    assertJoinable(socket, list);
    keepInList(list);
    // Rooms the socket is already in are not joined again (no presence call, no event).
    const changes = await Promise.all(list.filter((room) => !socket.rooms.has(room)).map(enter));
    for (const change of changes) {
      // A big room hears of arrivals only in its summaries; the sender gets its own events.
      if (change.coalesced) {
        socket.emit('userJoined', socket.id);
        if (!change.changed) continue;
        socket.emit('roomUsers', rosterOf(change));
        announcer.schedule(change.room);
      } else {
        emitToRoom(socket, change.room, 'userJoined', socket.id);
        if (change.changed) emitToRoom(socket, change.room, 'roomUsers', rosterOf(change));
      }
    }
    return { rooms: list };
  });

  on('leaveRoom', { bucket }, async (room) => {
    if (isReservedRoom(room)) throw new ParleyError('forbidden', `Room "${room}" is reserved`);
    if (!socket.rooms.has(room)) return;
    void socket.leave(room);
    if (socket.data.currentRoom === room) delete socket.data.currentRoom;
    announcer.left(room, user.username, await presence.leave(room, memberOf(socket)));
  });

  on('sync', { bucket }, async (request) => {
    const { room } = request;
    assertMember(socket, room, 'syncing');
    const { messages } = deps.repos;
    return syncPage(
      request,
      (cursor, count) => messages.since(room, cursor, count),
      () => messages.roomPosition(room),
    );
  });

  socket.on('disconnecting', () => {
    const member = memberOf(socket);
    const leaving: Promise<void>[] = [];
    for (const room of socket.rooms) {
      if (room === socket.id || isReservedRoom(room)) continue;
      leaving.push(
        presence.leave(room, member).then(
          (change) => announcer.left(room, user.username, change),
          (err: unknown) => log.error({ err, room, socketId: socket.id }, 'presence leave failed'),
        ),
      );
    }
    // Logged once every room is left and announced (or not): a test's proof that the server
    // has processed a disconnect.
    void Promise.all(leaving).then(() =>
      log.debug({ socketId: socket.id, userId: user.id, rooms: leaving.length }, 'socket left its rooms'),
    );
  });
}
