import type { FastifyPluginAsync } from 'fastify';
import { historyQuerySchema, isReservedRoom, ParleyError, roomParamsSchema } from '@parley/protocol';
import { parse } from '../validation.ts';

export const roomRoutes: FastifyPluginAsync = async (app) => {
  app.get('/rooms/:room/messages', { preHandler: app.authenticate }, async (request) => {
    const { room } = parse(roomParamsSchema, request.params);
    if (isReservedRoom(room)) throw new ParleyError('forbidden', 'Reserved room');
    const { before, limit } = parse(historyQuerySchema, request.query);
    return { messages: await app.repos.messages.history(room, limit, before) };
  });
};
