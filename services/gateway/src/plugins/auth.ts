import fastifyJwt from '@fastify/jwt';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '@parley/config';
import { idSchema, ParleyError, type PublicUser, type Role } from '@parley/protocol';

interface TokenClaims {
  sub: string;
  username: string;
  role: Role;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: TokenClaims;
    user: PublicUser;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Route hook: 401 unless the request carries a valid Bearer token; sets request.user. */
    requireUser: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    tokens: {
      sign(user: PublicUser): string;
      /** Signature and expiry only. @throws ParleyError('unauthorized' | 'token_expired') */
      verify(token: string): PublicUser;
      /**
       * `verify`, then load the user: a deleted account is 'unauthorized', and the stored
       * username and role count, not the token's.
       */
      resolveUser(token: string): Promise<PublicUser>;
    };
  }
}

function toUser(claims: TokenClaims): PublicUser {
  const id = Number(claims.sub);
  // An id no user can have would fail in the database (users.id is INTEGER), not as a bad token.
  if (!idSchema.safeParse(id).success || typeof claims.username !== 'string') {
    throw new ParleyError('unauthorized', 'Malformed token');
  }
  return { id, username: claims.username, role: claims.role === 'admin' ? 'admin' : 'user' };
}

function authError(err: unknown): ParleyError {
  const code = (err as { code?: string }).code ?? '';
  if (code.includes('EXPIRED')) return new ParleyError('token_expired');
  if (err instanceof ParleyError) return err;
  return new ParleyError('unauthorized', 'Invalid token');
}

/** JWT (HS256) for HTTP and the Socket.IO handshake, one secret for the whole cluster. */
export const authPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(fastifyJwt, {
      secret: config.jwt.secret,
      sign: { expiresIn: config.jwt.expiresIn },
      verify: { algorithms: ['HS256'] },
      formatUser: toUser,
    });
    const verify = (token: string): PublicUser => {
      try {
        return toUser(app.jwt.verify<TokenClaims>(token));
      } catch (err) {
        throw authError(err);
      }
    };
    app.decorate('tokens', {
      sign: (user: PublicUser) => app.jwt.sign({ sub: String(user.id), username: user.username, role: user.role }),
      verify,
      resolveUser: async (token: string) => {
        const user = await app.userLookup.submit(verify(token).id);
        if (!user) throw new ParleyError('unauthorized', 'The account no longer exists');
        return user;
      },
    });
    app.decorate('requireUser', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (!header?.startsWith('Bearer ')) throw new ParleyError('unauthorized', 'Missing Bearer token');
      request.user = await app.tokens.resolveUser(header.slice('Bearer '.length).trim());
    });
  },
  { name: 'auth', dependencies: ['db'] },
);
