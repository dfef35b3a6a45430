import type { FastifyPluginAsync } from 'fastify';
import { followPageQuerySchema, idParamsSchema, ParleyError } from '@parley/protocol';
import { parse } from '../validation.ts';

export const followRoutes: FastifyPluginAsync = async (app) => {
  app.post('/users/:id/follow', { preHandler: app.authenticate }, async (request, reply) => {
    const { id } = parse(idParamsSchema, request.params);
    if (id === request.user.id) throw new ParleyError('cannot_follow_self');
    if (!(await app.repos.follows.follow(request.user.id, id))) throw new ParleyError('not_found', `No user ${id}`);
    return reply.code(204).send();
  });

  app.delete('/users/:id/follow', { preHandler: app.authenticate }, async (request, reply) => {
    const { id } = parse(idParamsSchema, request.params);
    if (!(await app.repos.follows.unfollow(request.user.id, id))) throw new ParleyError('not_found', `No user ${id}`);
    return reply.code(204).send();
  });

  for (const side of ['followers', 'following'] as const) {
    app.get(`/users/:id/${side}`, async (request) => {
      const { id } = parse(idParamsSchema, request.params);
      const { after, limit } = parse(followPageQuerySchema, request.query);
      const users = await app.repos.follows[side](id, limit, after);
      if (!users) throw new ParleyError('not_found', `No user ${id}`);
      return { users };
    });
  }
};
