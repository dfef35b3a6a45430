/** What one chaos run does. Every field has a default (`CHAOS_DEFAULTS`, the `pnpm chaos` run). */
export interface ChaosOptions {
  /** Clients, one user each, spread evenly over the rooms and over the 3 nodes. @default 300 */
  clients: number;
  /** @default 10 */
  rooms: number;
  /** Messages per second each client sends (one send at a time, paced by a timer). @default 0.2 */
  rate: number;
  /** Steady chat before the first fault, between the faults and after the last one. @default 10000 */
  phaseMs: number;
  /** How long Redis stays down between its stop and its start (same port, empty). @default 2000 */
  redisDownMs: number;
  /** How long PostgreSQL stays stopped. @default 10000 */
  postgresDownMs: number;
  /** @parley/client's `ackTimeoutMs`. @default 8000 */
  ackTimeoutMs: number;
  /** @parley/client's `sendTimeoutMs`: how long a send is retried (same clientId). @default 30000 */
  sendTimeoutMs: number;
  /** Bound on each fault's recovery (clients reconnected and resynced, nodes back on Redis, acks flowing). @default 30000 */
  recoverTimeoutMs: number;
  /** Bound on the wait, after the chat, for every member to hold every stored message of its room. @default 30000 */
  settleTimeoutMs: number;
  /** Loopback source addresses per node the clients connect from (nginx hashes on the address). @default 4 */
  addressesPerNode: number;
  /** Write every node's log lines there (one file per process) at the end. @default none */
  logDir?: string;
  /** Progress lines. @default none */
  log: (line: string) => void;
}

export const CHAOS_DEFAULTS: ChaosOptions = {
  clients: 300,
  rooms: 10,
  rate: 0.2,
  phaseMs: 10_000,
  redisDownMs: 2000,
  postgresDownMs: 10_000,
  ackTimeoutMs: 8000,
  sendTimeoutMs: 30_000,
  recoverTimeoutMs: 30_000,
  settleTimeoutMs: 30_000,
  addressesPerNode: 4,
  log: () => {},
};

export function chaosOptions(partial: Partial<ChaosOptions>): ChaosOptions {
  const o: ChaosOptions = { ...CHAOS_DEFAULTS, ...partial };
  if (!Number.isInteger(o.clients) || o.clients < 3 * o.rooms) throw new Error('chaos: at least 3 clients per room (one per node)');
  if (!Number.isInteger(o.rooms) || o.rooms < 1) throw new Error('chaos: at least one room');
  if (!(o.rate > 0) || o.rate > 5) throw new Error('chaos: rate must be in (0, 5] messages/s per client (the socket limit is 10/s)');
  return o;
}
