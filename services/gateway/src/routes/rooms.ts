import type { FastifyPluginAsync } from 'fastify';
import { isReservedRoom, ParleyError } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

export const roomRoutes: FastifyPluginAsync = async (app) => {
  contractRoute(app, 'roomMessages', async (request) => {
    const { room } = request.params;
    if (isReservedRoom(room)) throw new ParleyError('forbidden', 'Reserved room');
    const { before, limit } = request.query;
    return { messages: await app.repos.messages.history(room, limit, before) };
  });
};
