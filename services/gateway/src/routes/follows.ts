import type { FastifyPluginAsync } from 'fastify';
import { ParleyError } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

export const followRoutes: FastifyPluginAsync = async (app) => {
  contractRoute(app, 'follow', async (request, reply) => {
    const { id } = request.params;
    if (id === request.user.id) throw new ParleyError('cannot_follow_self');
    if (!(await app.repos.follows.follow(request.user.id, id))) throw new ParleyError('not_found', `No user ${id}`);
    reply.code(204);
  });

  contractRoute(app, 'unfollow', async (request, reply) => {
    const { id } = request.params;
    if (!(await app.repos.follows.unfollow(request.user.id, id))) throw new ParleyError('not_found', `No user ${id}`);
    reply.code(204);
  });

  for (const side of ['followers', 'following'] as const) {
    contractRoute(app, side, async (request) => {
      const { id } = request.params;
      const { after, limit } = request.query;
      const users = await app.repos.follows[side](id, limit, after);
      if (!users) throw new ParleyError('not_found', `No user ${id}`);
      return { users };
    });
  }
};
