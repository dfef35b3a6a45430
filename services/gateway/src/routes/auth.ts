import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '@parley/config';
import { ParleyError, usernameSchema } from '@parley/protocol';
import { contractRoute } from './contract-route.ts';

export const authRoutes: FastifyPluginAsync<{ config: Config }> = async (app) => {
  // Compared against when the username is unknown, so both paths cost one scrypt.
  const decoyHash = await app.passwords.hash('decoy-password');

  /** The stored account of `username` if `password` is its password; one scrypt either way. */
  const checkPassword = async (username: string, password: string) => {
    // A name outside the username rules has no account (and may not even reach the database: NUL).
    const record = usernameSchema.safeParse(username).success ? await app.repos.users.findByUsername(username) : null;
    const ok = await app.passwords.verify(password, record?.passwordHash ?? decoyHash);
    if (!record || !ok) throw new ParleyError('invalid_credentials');
    return record;
  };

  contractRoute(app, 'register', async (request, reply) => {
    const { username, password } = request.body;
    const user = await app.repos.users.create(username, await app.passwords.hash(password));
    request.log.info({ userId: user.id }, 'user registered');
    reply.code(201);
    return { token: app.tokens.sign(user, 0), user };
  });

  contractRoute(app, 'login', async (request) => {
    const { id, username, role, tokenVersion } = await checkPassword(request.body.username, request.body.password);
    const user = { id, username, role };
    return { token: app.tokens.sign(user, tokenVersion), user };
  });

  contractRoute(app, 'me', async (request) => ({ user: request.user }));

  contractRoute(app, 'refresh', async (request) => ({
    token: app.tokens.sign(request.user, request.session.tokenVersion),
    user: request.user,
  }));

  contractRoute(app, 'changePassword', async (request) => {
    const { currentPassword, newPassword } = request.body;
    await checkPassword(request.user.username, currentPassword);
    const account = await app.repos.users.changePassword(request.user.id, await app.passwords.hash(newPassword));
    if (!account) throw new ParleyError('token_revoked');
    await app.revocations.revoke({ userId: account.user.id, version: account.tokenVersion });
    request.log.info({ userId: account.user.id }, 'password changed; older tokens revoked');
    return { token: app.tokens.sign(account.user, account.tokenVersion), user: account.user };
  });

  contractRoute(app, 'deleteMe', async (request, reply) => {
    await checkPassword(request.user.username, request.body.password);
    if (!(await app.repos.users.delete(request.user.id))) throw new ParleyError('token_revoked');
    await app.revocations.revoke({ userId: request.user.id, version: null });
    request.log.info({ userId: request.user.id }, 'account deleted; its tokens revoked');
    reply.code(204);
  });
};
