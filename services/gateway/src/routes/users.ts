import type { FastifyPluginAsync } from 'fastify';
import { ParleyError, usernameSchema } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

/** Look-ups of one user (extension): the web app names post authors and starts conversations with room members. */
export const userRoutes: FastifyPluginAsync = async (app) => {
  contractRoute(app, 'user', async (request) => {
    const { id } = request.params;
    const [account] = await app.repos.users.findByIds([id]);
    if (!account) throw new ParleyError('not_found', `No user ${id}`);
    return { user: account.user };
  });

  contractRoute(app, 'userByName', async (request) => {
    const { username } = request.params;
    // A name outside the rules (a NUL, which PostgreSQL text cannot hold, among them) belongs to nobody: not looked up.
    const record = usernameSchema.safeParse(username).success ? await app.repos.users.findByUsername(username) : null;
    if (!record) throw new ParleyError('not_found', `No user named ${username}`);
    return { user: { id: record.id, username: record.username, role: record.role } };
  });
};
