import fastifyJwt from '@fastify/jwt';
import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '@parley/config';
import { idSchema, ParleyError, type PublicUser, type Role } from '@parley/protocol';
import type { TokenSession } from '../realtime/sessions.ts';

/** The `iss` of every token Parley signs; a token of another issuer is refused. */
const ISSUER = 'parley';

interface TokenClaims {
  sub: string;
  username: string;
  role: Role;
  /** The account's token version when the token was signed (see users.token_version). */
  ver: number;
  iss: string;
  iat: number;
  exp: number;
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: Pick<TokenClaims, 'sub' | 'username' | 'role' | 'ver'>;
    user: PublicUser;
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The session of the request's token (set by requireUser). */
    session: TokenSession;
  }
  interface FastifyInstance {
    /** Route hook: 401 unless the request carries a valid Bearer token; sets request.user and request.session. */
    requireUser: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    tokens: {
      /** A token for `user` at token version `version`. */
      sign(user: PublicUser, version: number): string;
      /**
       * Verify the signature, issuer and expiry, then load the account: the stored username
       * and role count, not the token's.
       * @throws ParleyError('unauthorized' | 'token_expired' | 'token_revoked'), or the
       * database's error when the account cannot be looked up.
       */
      resolve(token: string): Promise<TokenSession>;
    };
  }
}

function authError(err: unknown): ParleyError {
  if (err instanceof ParleyError) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code.includes('EXPIRED')) return new ParleyError('token_expired');
  return new ParleyError('unauthorized', 'Invalid token');
}

/**
 * JWT (HS256) for HTTP and the Socket.IO handshake, one secret for the whole cluster. Tokens
 * carry `iss`, `iat`, `exp` and the account's token version `ver`: a password change, a role
 * change or the account's deletion revokes every token signed before it.
 */
export const authPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(fastifyJwt, {
      secret: config.jwt.secret,
      sign: { expiresIn: config.jwt.expiresIn, iss: ISSUER },
      verify: { algorithms: ['HS256'], allowedIss: ISSUER, requiredClaims: ['sub', 'exp', 'ver'] },
    });
    const resolve = async (token: string): Promise<TokenSession> => {
      let claims: TokenClaims;
      try {
        claims = app.jwt.verify<TokenClaims>(token);
      } catch (err) {
        throw authError(err);
      }
      const id = Number(claims.sub);
      // An id no user can have would fail in the database (users.id is INTEGER), not as a bad token.
      if (!idSchema.safeParse(id).success || !Number.isSafeInteger(claims.ver) || !Number.isFinite(claims.exp)) {
        throw new ParleyError('unauthorized', 'Malformed token');
      }
      const account = await app.userLookup.submit(id);
      // A deleted account, or a token signed before the last password or role change.
      if (!account || account.tokenVersion !== claims.ver) throw new ParleyError('token_revoked');
      return { user: account.user, tokenVersion: account.tokenVersion, expiresAt: claims.exp * 1000 };
    };
    app.decorate('tokens', {
      sign: (user: PublicUser, version: number) =>
        app.jwt.sign({ sub: String(user.id), username: user.username, role: user.role, ver: version }),
      resolve,
    });
    app.decorateRequest('session', null as unknown as TokenSession);
    app.decorate('requireUser', async (request: FastifyRequest) => {
      const header = request.headers.authorization;
      if (!header?.startsWith('Bearer ')) throw new ParleyError('unauthorized', 'Missing Bearer token');
      request.session = await resolve(header.slice('Bearer '.length).trim());
      request.user = request.session.user;
    });
  },
  { name: 'auth', dependencies: ['db'] },
);
