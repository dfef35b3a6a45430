import type { FastifyPluginAsync } from 'fastify';
import { isReservedRoom, ParleyError } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

/**
 * The caller's read state over HTTP, mirroring the socket events: every socket of the caller, on
 * every node, hears of a cursor that moves or a room that leaves the list. A room's cursor may be
 * moved for any room whose history the caller may read (GET /rooms/:room/messages): any but the
 * reserved ones.
 */
export const readStateRoutes: FastifyPluginAsync = async (app) => {
  const assertReadable = (room: string) => {
    if (isReservedRoom(room)) throw new ParleyError('forbidden', `Room "${room}" is reserved`);
  };

  contractRoute(app, 'readState', (request) => app.repos.readState.state(request.user.id));

  contractRoute(app, 'readRoom', async (request) => {
    const { room } = request.params;
    assertReadable(room);
    const { readPosition, unread, moved } = await app.repos.readState.readRoom(request.user.id, room, request.body.position);
    const read = { room, readPosition, unread };
    if (moved) app.toUser(request.user.id).emit('readState', read);
    return read;
  });

  contractRoute(app, 'readConversation', async (request) => {
    const { userId } = request.params;
    const { readPosition, unread, moved } = await app.repos.readState.readConversation(request.user.id, userId, request.body.position);
    const read = { userId, readPosition, unread };
    if (moved) app.toUser(request.user.id).emit('readState', read);
    return read;
  });

  contractRoute(app, 'forgetRoom', async (request, reply) => {
    const { room } = request.params;
    assertReadable(room);
    if (await app.repos.readState.forgetRoom(request.user.id, room)) app.toUser(request.user.id).emit('roomForgotten', { room });
    reply.code(204);
  });
};
