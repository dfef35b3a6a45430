import type { FastifyPluginAsync } from 'fastify';
import { ParleyError } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

export const privateMessageRoutes: FastifyPluginAsync = async (app) => {
  contractRoute(app, 'privateMessages', async (request) => {
    const { id } = request.params;
    if (id !== request.user.id && (await app.userLookup.submit(id)) === null) throw new ParleyError('not_found', `No user ${id}`);
    const { before, limit } = request.query;
    return { messages: await app.repos.messages.conversation(request.user.id, id, limit, before) };
  });
};
