import type { Config } from '@parley/config';
import { MAX_ROOMS_PER_SOCKET } from '@parley/protocol';
import { TokenBucket } from '../domain/token-bucket.ts';
import type { BucketKind, ServerSocketData } from './types.ts';

const RATE_FACTOR: Record<BucketKind, number> = { send: 1, typing: 2, rooms: 1, reads: 1 };

/**
 * Smallest burst of each kind. A client reconnecting to another node rejoins and syncs every
 * room at once (a 'join' and a 'sync' each): that must fit in one burst.
 */
export const MIN_BURST: Record<BucketKind, number> = { send: 1, typing: 1, rooms: 2 * MAX_ROOMS_PER_SOCKET, reads: 1 };

/** The socket's bucket of `kind` (a socket of any namespace), created on first use. */
export function socketBucket(socket: { data: ServerSocketData }, kind: BucketKind, config: Pick<Config, 'rateLimit'>): () => TokenBucket {
  const factor = RATE_FACTOR[kind];
  const burst = Math.max(config.rateLimit.burst * factor, MIN_BURST[kind]);
  return () => (socket.data.buckets[kind] ??= new TokenBucket(config.rateLimit.perSecond * factor, burst));
}
