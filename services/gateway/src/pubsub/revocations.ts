import { z } from 'zod';
import { JsonChannel } from './json-channel.ts';

/**
 * A revocation: every token of `userId` below token version `version` is void (a password or
 * role change); `version: null` voids them all (the account is deleted).
 */
export const revocationSchema = z.object({ userId: z.number().int().positive(), version: z.number().int().nonnegative().nullable() });
export type Revocation = z.output<typeof revocationSchema>;

/** The channel every gateway subscribes to: `<REDIS_KEY_PREFIX>#revocations`. */
export function revocationChannel(keyPrefix: string) {
  return new JsonChannel(`${keyPrefix}#revocations`, revocationSchema);
}
