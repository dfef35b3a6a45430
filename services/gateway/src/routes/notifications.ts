import type { FastifyPluginAsync } from 'fastify';
import { bigIdParamsSchema, notificationsQuerySchema, ParleyError } from '@parley/protocol';
import { parse } from '../validation.ts';

/** The caller's own notifications only: every query is scoped to request.user.id. */
export const notificationRoutes: FastifyPluginAsync = async (app) => {
  app.addHook('preHandler', app.authenticate);

  app.get('/notifications', async (request) => {
    const { unread, limit, before } = parse(notificationsQuerySchema, request.query);
    const userId = request.user.id;
    const [notifications, unreadCount] = await Promise.all([
      app.repos.notifications.list(userId, { unreadOnly: unread === 'true', limit, before }),
      app.repos.notifications.unreadCount(userId),
    ]);
    return { notifications, unreadCount };
  });

  app.post('/notifications/:id/read', async (request, reply) => {
    const { id } = parse(bigIdParamsSchema, request.params);
    if ((await app.repos.notifications.markRead(request.user.id, [id])) === 0) {
      throw new ParleyError('not_found', `No notification ${id}`);
    }
    return reply.code(204).send();
  });

  app.post('/notifications/read-all', async (request) => ({
    updated: await app.repos.notifications.markAllRead(request.user.id),
  }));
};
