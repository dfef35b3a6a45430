import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Config } from '@parley/config';
import { ParleyError, type RouteName } from '@parley/protocol';
import { boundedCommands } from '../limits/bounded-redis.ts';
import { createUserBudget, type UserBudget } from '../limits/user-budget.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Each user's budget of chat, private and 'message' events, read cursor moves and post writes (all sockets, all nodes). */
    userBudget: UserBudget;
  }
}

/** Longest a limit waits for Redis before it gives up (fails open, or falls back to memory). */
export const LIMITS_REDIS_TIMEOUT_MS = 200;

type Limiter = ReturnType<FastifyInstance['createRateLimit']>;
type Hook = (request: FastifyRequest) => Promise<void>;

/** 429 rate_limited (with Retry-After) when `limiter` counts this request over its limit. */
function enforce(limiter: Limiter): Hook {
  return async (request) => {
    const result = await limiter(request);
    if (result.isAllowed || !result.isExceeded) return;
    const retryAfterSec = Math.max(1, result.ttlInSeconds);
    throw new ParleyError('rate_limited', `Too many requests; try again in ${retryAfterSec} s`, { retryAfterSec });
  };
}

/**
 * Limits on every door: HTTP requests per client address (every route), login and registration
 * attempts per address and per username, and each user's budget of expensive actions (socket
 * events use it too, through `app.userBudget`). Counted in Redis when REDIS_URL is set (shared by
 * every node), in memory otherwise. A Redis that fails or does not answer within
 * LIMITS_REDIS_TIMEOUT_MS never holds a request: HTTP limits fail open (logged), the user budget
 * falls back to this node's memory.
 */
export const limitsPlugin = fp<{ config: Config }>(
  async (app, { config }) => {
    const redis = app.redis?.pub;
    let failing = false;
    await app.register(rateLimit, {
      global: false,
      skipOnError: true,
      ...(redis
        ? {
            nameSpace: `${config.redis.keyPrefix}:rl:`,
            redis: boundedCommands(redis, LIMITS_REDIS_TIMEOUT_MS, {
              failed: (err) => {
                if (!failing) app.log.warn({ err }, 'rate limit store unavailable: not limiting');
                failing = true;
              },
              answered: () => {
                if (failing) app.log.info('rate limit store back');
                failing = false;
              },
            }),
          }
        : {}),
    });

    const { httpPerMinute, auth, user } = config.limits;
    const address = (request: FastifyRequest) => normalizeIP(request.ip);
    const limiter = (max: number, windowSec: number, key: (request: FastifyRequest) => string) =>
      enforce(app.createRateLimit({ max, timeWindow: windowSec * 1000, keyGenerator: key }));
    const authPerAddress = limiter(auth.perIp, auth.windowSec, (r) => `auth:${address(r)}`);
    // After validation: the body's username is a string.
    const perUsername = (route: RouteName) =>
      limiter(auth.perUsername, auth.windowSec, (r) => `${route}:${(r.body as { username: string }).username}`);
    // Routes that check the caller's password (a stolen token must not make it guessable): per account.
    const perAccount = (route: RouteName) => limiter(auth.perUsername, auth.windowSec, (r) => `${route}:${r.user.id}`);

    const userBudget = createUserBudget({
      points: user.points,
      windowSec: user.windowSec,
      ...(redis ? { redis: { client: redis, keyPrefix: config.redis.keyPrefix, timeoutMs: LIMITS_REDIS_TIMEOUT_MS } } : {}),
    });
    const spend: Hook = (request) => userBudget.spend(request.user.id);
    app.decorate('userBudget', userBudget);

    app.addHook(
      'onRequest',
      limiter(httpPerMinute, 60, (r) => `http:${address(r)}`),
    );
    /** Contract routes with limits of their own, added to their hooks as they are registered. */
    const routeLimits: Partial<Record<RouteName, { onRequest?: Hook; preHandler?: Hook }>> = {
      register: { onRequest: authPerAddress, preHandler: perUsername('register') },
      login: { onRequest: authPerAddress, preHandler: perUsername('login') },
      changePassword: { onRequest: authPerAddress, preHandler: perAccount('changePassword') },
      deleteMe: { onRequest: authPerAddress, preHandler: perAccount('deleteMe') },
      // After the token check (onRequest) and the body's validation: a refused request costs nothing.
      createPost: { preHandler: spend },
      updatePost: { preHandler: spend },
      readRoom: { preHandler: spend },
      readConversation: { preHandler: spend },
      forgetRoom: { preHandler: spend },
    };
    app.addHook('onRoute', (route: RouteOptions) => {
      const limits = routeLimits[route.schema?.operationId as RouteName];
      if (!limits) return;
      for (const name of ['onRequest', 'preHandler'] as const) {
        const hook = limits[name];
        if (hook) route[name] = [...[route[name] ?? []].flat(), hook] as RouteOptions[typeof name];
      }
    });
  },
  { name: 'limits', dependencies: ['redis'] },
);
