import type { RedisClient } from '../pubsub/redis-client.ts';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
import { ParleyError } from '@parley/protocol';

export interface UserBudgetOptions {
  /** Points (events, post writes) each user may spend per window. */
  points: number;
  windowSec: number;
  /**
   * Where the budget is kept so that every node shares it. Unset: this node's memory. Each Redis
   * call gives up after `timeoutMs` (at once while disconnected), and the budget then falls back
   * to this node's memory until Redis answers again.
   */
  redis?: { client: RedisClient; keyPrefix: string; timeoutMs: number };
}

/** A per-user budget, shared by all of a user's sockets (and, over Redis, all nodes). */
export interface UserBudget {
  /** Spend one point of `userId`'s budget. @throws ParleyError('rate_limited', retryAfterSec) when none is left */
  spend(userId: number): Promise<void>;
}

/**
 * A fixed-window budget per user (rate-limiter-flexible): RateLimiterRedis with timeouts and an
 * in-memory insurance limiter in a cluster, RateLimiterMemory alone.
 * @example const budget = createUserBudget({ points: 200, windowSec: 10 }); await budget.spend(user.id);
 */
export function createUserBudget(options: UserBudgetOptions): UserBudget {
  const { points, windowSec: duration, redis } = options;
  const memory = new RateLimiterMemory({ points, duration, keyPrefix: 'budget' });
  const limiter = redis
    ? new RLWrapperTimeouts({
        limiter: new RateLimiterRedis({
          storeClient: redis.client,
          keyPrefix: `${redis.keyPrefix}:budget`,
          points,
          duration,
          rejectIfRedisNotReady: true,
        }),
        timeoutMs: redis.timeoutMs,
        insuranceLimiter: memory,
      })
    : memory;
  return {
    async spend(userId) {
      try {
        await limiter.consume(String(userId));
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const retryAfterSec = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
        throw new ParleyError('rate_limited', `Too many messages and posts; try again in ${retryAfterSec} s`, { retryAfterSec });
      }
    },
  };
}
