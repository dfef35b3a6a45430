import type { Protocol, Transport } from './client.ts';

/** What one load run does. Every field has a default (see `withDefaults`). */
export interface LoadOptions {
  /** Base URLs clients connect to, round-robin (several nodes, or nginx). @default ['http://127.0.0.1:3000'] */
  targets: string[];
  /** Where users register; undefined = no auth (lesson server, raw ws). @default targets[0] for 'socketio' with auth */
  authUrl?: string;
  /** Register users and connect with their tokens. @default true */
  auth: boolean;
  /** @default 'socketio' */
  protocol: Protocol;
  /** @default 'websocket' */
  transport: Transport;
  /** Connections. @default 800 */
  clients: number;
  /** Distinct users; connections reuse their tokens round-robin. @default clients */
  users?: number;
  /** @default 20 */
  rooms: number;
  /** Clients that send (spread over the rooms). @default 100 */
  senders: number;
  /** Messages per second per sender. @default 8 */
  rate: number;
  /** Sending before the measured window, in seconds. @default 3 */
  warmup: number;
  /** Measured window, in seconds. @default 15 */
  duration: number;
  /** Longest wait after the window for messages still in flight, in ms. @default 3000 */
  drainMs: number;
  /** Worker threads driving the clients. @default 2 */
  workers: number;
  /** Connect only, send nothing: measures memory per idle connection. @default false */
  idle: boolean;
  /** Wait for chatMessage acks and count their errors (Socket.IO only). @default true */
  ack: boolean;
  /** Spread client source addresses over 127.0.0.1..127.0.0.N (nginx ip_hash, port ranges). @default 1 */
  sourceIps: number;
  /** Connections each worker opens at once. @default 100 */
  connectConcurrency: number;
  /** Extra characters in each message. @default 0 */
  padding: number;
  /** Server processes to measure CPU (and, with `idle`, RSS) of. @default [] */
  serverPids: { label: string; pid: number }[];
  /** Port of the Redis whose CPU counts as server CPU. @default undefined */
  redisPort?: number;
  /** PostgreSQL database whose backends' CPU counts as server CPU. @default undefined */
  pgDatabase?: string;
  /** Write progress lines to stderr. @default true */
  progress: boolean;
  /**
   * Counters of the system under test (Redis commands by name, database round trips…), read at the
   * start and at the end of the measured window; the report gives how much each one grew (nothing
   * when a read fails: the run goes on).
   */
  counters?: () => Promise<Record<string, number>>;
}

export const DEFAULTS: Omit<LoadOptions, 'serverPids'> & { serverPids: [] } = {
  targets: ['http://127.0.0.1:3000'],
  auth: true,
  protocol: 'socketio',
  transport: 'websocket',
  clients: 800,
  rooms: 20,
  senders: 100,
  rate: 8,
  warmup: 3,
  duration: 15,
  drainMs: 3000,
  workers: 2,
  idle: false,
  ack: true,
  sourceIps: 1,
  connectConcurrency: 100,
  padding: 0,
  serverPids: [],
  progress: true,
};

export function withDefaults(options: Partial<LoadOptions>): LoadOptions {
  const merged: LoadOptions = { ...DEFAULTS, ...options };
  if (merged.senders > merged.clients) throw new Error('senders must not exceed clients');
  if (merged.targets.length === 0) throw new Error('at least one target URL');
  return merged;
}
