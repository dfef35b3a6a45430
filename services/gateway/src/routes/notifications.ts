import type { FastifyPluginAsync } from 'fastify';
import { ParleyError } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

/** The caller's own notifications only: every query is scoped to request.user.id. */
export const notificationRoutes: FastifyPluginAsync = async (app) => {
  contractRoute(app, 'notifications', async (request) => {
    const { unread, limit, before } = request.query;
    const userId = request.user.id;
    const [notifications, unreadCount] = await Promise.all([
      app.repos.notifications.list(userId, { unreadOnly: unread === 'true', limit, before }),
      app.repos.notifications.unreadCount(userId),
    ]);
    return { notifications, unreadCount };
  });

  contractRoute(app, 'readNotification', async (request, reply) => {
    const { id } = request.params;
    if ((await app.repos.notifications.markRead(request.user.id, [id])) === 0) {
      throw new ParleyError('not_found', `No notification ${id}`);
    }
    reply.code(204);
  });

  contractRoute(app, 'readAllNotifications', async (request) => ({
    updated: await app.repos.notifications.markAllRead(request.user.id),
  }));
};
