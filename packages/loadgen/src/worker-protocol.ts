import type { Protocol, Transport } from './client.ts';

/** One simulated user connection. */
export interface ClientSpec {
  url: string;
  token?: string;
  /** Room to join; undefined = stay idle. */
  room?: string;
  sender: boolean;
  localAddress?: string;
}

export interface WorkerInit {
  workerId: number;
  clients: ClientSpec[];
  protocol: Protocol;
  transport: Transport;
  /** Messages per second per sender. */
  rate: number;
  /** Wait for chatMessage acks (Parley) and count their errors. */
  ack: boolean;
  /** Connections opened at once per worker. */
  connectConcurrency: number;
  /** Extra characters in each message's text. */
  padding: number;
}

/** Main thread -> worker. Times are monotonic milliseconds (`monotonicMs()`). */
export type ToWorker =
  { type: 'start'; measureStart: number; measureEnd: number } | { type: 'count' } | { type: 'report' } | { type: 'close' };

export interface Counts {
  /** Messages sent inside the measured window, by room. */
  sentByRoom: Record<string, number>;
  /** Messages received that were sent inside the measured window. */
  delivered: number;
}

export interface WorkerReport extends Counts {
  /** Sends outside the window too (warm-up). */
  sentTotal: number;
  acksOk: number;
  ackErrors: Record<string, number>;
  /** Connections that dropped after connecting. */
  disconnects: number;
  /** End-to-end latencies (ms) of the measured deliveries. */
  latencies: Float64Array;
}

/** Worker -> main thread. */
export type FromWorker =
  | { type: 'progress'; connected: number; failed: number }
  | { type: 'ready'; connected: number; failed: number; errors: Record<string, number>; connectedByRoom: Record<string, number> }
  | ({ type: 'counts' } & Counts)
  | ({ type: 'report' } & WorkerReport);

/** CLOCK_MONOTONIC in ms: the same clock in every thread and process of this machine. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
