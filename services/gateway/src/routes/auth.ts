import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '@parley/config';
import { ParleyError, usernameSchema } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

export const authRoutes: FastifyPluginAsync<{ config: Config }> = async (app) => {
  // Compared against when the username is unknown, so both paths cost one scrypt.
  const decoyHash = await app.passwords.hash('decoy-password');

  contractRoute(app, 'register', async (request, reply) => {
    const { username, password } = request.body;
    const user = await app.repos.users.create(username, await app.passwords.hash(password));
    request.log.info({ userId: user.id }, 'user registered');
    reply.code(201);
    return { token: app.tokens.sign(user), user };
  });

  contractRoute(app, 'login', async (request) => {
    const { username, password } = request.body;
    // A name outside the username rules has no account (and may not even reach the database: NUL).
    const record = usernameSchema.safeParse(username).success ? await app.repos.users.findByUsername(username) : null;
    const ok = await app.passwords.verify(password, record?.passwordHash ?? decoyHash);
    if (!record || !ok) throw new ParleyError('invalid_credentials');
    const user = { id: record.id, username: record.username, role: record.role };
    return { token: app.tokens.sign(user), user };
  });

  contractRoute(app, 'me', async (request) => ({ user: request.user }));
};
