import type { Config } from '@parley/config';
import { TokenBucket } from '../domain/token-bucket.ts';
import type { MainSocket } from './types.ts';

/**
 * Per-socket rate limits: `send` (message, chatMessage, privateMessage), `typing` (typing,
 * stopTyping; twice the send rate) and `rooms` (join, joinRoom, leaveRoom, sync).
 */
export type BucketKind = 'send' | 'typing' | 'rooms';

const RATE_FACTOR: Record<BucketKind, number> = { send: 1, typing: 2, rooms: 1 };

/** The socket's bucket of `kind`, created on first use. */
export function socketBucket(socket: MainSocket, kind: BucketKind, config: Pick<Config, 'rateLimit'>): () => TokenBucket {
  const factor = RATE_FACTOR[kind];
  return () =>
    (socket.data.buckets[kind] ??= new TokenBucket(config.rateLimit.perSecond * factor, config.rateLimit.burst * factor));
}
