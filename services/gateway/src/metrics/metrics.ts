import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { ERRORS, EVENT_NAMES, NAMESPACES, type ErrorCode, type NamespaceName } from '@parley/protocol';
import { CellCounter, type Cell } from './cell-counter.ts';

/** Where an error answer went: an HTTP response, a socket ack or `error` event, a refused handshake. */
export type ErrorTransport = 'http' | 'socket' | 'handshake';
/** The GroupCommit queues of a node: chat and private message writes, handshake / recipient user look-ups. */
export type DbQueue = 'messages' | 'user_lookups';
export type PresenceOp = 'join' | 'leave' | 'users' | 'flush' | 'stats' | 'list_rooms' | 'withdraw';

/** Latencies of a node's answers: a millisecond to several seconds (the bounded waits end at 5 s). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Items per database round trip (GroupCommit takes at most 1000). */
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

const namespaces = Object.values(NAMESPACES);
const errorCodes = Object.keys(ERRORS) as ErrorCode[];

/** What scrape-time gauges read: set by the parts that own the state, once they exist. */
export interface Probes {
  /** Engine.IO connections (one per client, whatever its namespaces). */
  clients?: () => number;
  /** Sockets by namespace and transport. */
  connections?: () => Iterable<{ namespace: NamespaceName; transport: string; count: number }>;
  /** Rooms by namespace and kind (socket-id rooms excluded). */
  rooms?: () => Iterable<{ namespace: NamespaceName; kind: 'chat' | 'reserved'; count: number }>;
  /** Fan-out jobs this node holds and has not finished. */
  fanoutActive?: () => number;
}

let processRegistry: Registry | undefined;

/**
 * prom-client's default metrics (process_*, nodejs_*: CPU, memory, event loop lag, GC, handles),
 * in a registry of their own, made once per process: they describe the process, which several
 * in-process nodes (the tests) share, and collecting them starts an event loop monitor and a GC
 * observer that are never stopped.
 */
function defaultMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * One node's Prometheus metrics (docs/METRICS.md), in a registry of its own: the catalog of every
 * `parley_*` metric, with the handles the instrumented parts use. Labels take values from bounded
 * sets only (namespaces, the contract's event names and error codes, transports, fixed kinds),
 * never user ids, room names or socket ids.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly probes: Probes = {};

  /** Inbound socket events by namespace and event (names outside the contract: 'unknown'). */
  readonly eventsReceived = this.counter(
    'parley_events_received_total',
    'Socket events received, by namespace and event (events outside the contract count as "unknown")',
    ['namespace', 'event'],
  );
  /** Events emitted to sockets of this node: each broadcast adds its local recipients, each direct emit one. */
  readonly deliveries = this.counter(
    'parley_deliveries_total',
    "Events emitted to this node's sockets, by namespace and event (a broadcast counts its local recipients)",
    ['namespace', 'event'],
  );
  readonly ackLatency = this.histogram(
    'parley_ack_latency_seconds',
    'Time from an inbound socket event to its ack, by namespace, event and outcome (error: an ack with ok false)',
    ['namespace', 'event', 'outcome'],
    LATENCY_BUCKETS,
  );
  readonly deliveryLatency = this.histogram(
    'parley_delivery_latency_seconds',
    "Time from a chat or private message's creation (its timestamp) to its emission on this node, once per message and node",
    ['event'],
    LATENCY_BUCKETS,
  );
  readonly dbBatchSize = this.histogram(
    'parley_db_batch_size',
    'Items per database round trip of a batching queue (messages: group commit of chat and private messages)',
    ['queue'],
    BATCH_BUCKETS,
  );
  readonly dbBatchDuration = this.histogram(
    'parley_db_batch_duration_seconds',
    'Duration of a database round trip of a batching queue, by queue and outcome',
    ['queue', 'outcome'],
    LATENCY_BUCKETS,
  );
  /** Redis Pub/Sub messages of the Socket.IO adapter's channels. */
  readonly adapterMessages = this.counter(
    'parley_redis_adapter_messages_total',
    "Messages on the Socket.IO Redis adapter's channels, published by this node or received by it",
    ['direction'],
  );
  readonly adapterPublishErrors = this.counter(
    'parley_redis_adapter_publish_errors_total',
    'Publishes of the Socket.IO Redis adapter that failed (Redis away or too slow): broadcasts other nodes missed',
    [],
  );
  readonly presenceOps = this.counter('parley_presence_operations_total', 'Presence operations, by operation and outcome', [
    'op',
    'outcome',
  ]);
  readonly fanoutJobs = this.counter('parley_fanout_jobs_total', 'Post fan-out jobs this node ended, by outcome', ['outcome']);
  readonly fanoutNotifications = this.counter(
    'parley_fanout_notifications_total',
    'Notifications created and handed to delivery by post fan-out batches on this node',
    [],
  );
  readonly errors = this.counter(
    'parley_errors_total',
    'Error answers by transport (http, socket, handshake) and stable error code (rate_limited, unauthorized...)',
    ['transport', 'code'],
  );

  private readonly errorCells: Record<ErrorTransport, (code: string) => Cell>;
  /** Items waiting in each batching queue (not those of the write in flight). */
  private readonly queues = new Map<DbQueue, () => number>();

  constructor(nodeId: string) {
    // Started now: the event loop monitor's figures then cover the node's whole life.
    defaultMetrics();
    const probes = this.probes;
    const registers = [this.registry];
    new Gauge({ name: 'parley_node_info', help: 'This node (NODE_ID); always 1', labelNames: ['node_id'], registers }).set(
      { node_id: nodeId },
      1,
    );
    /** A gauge read from `read` when scraped. */
    const sampled = (name: string, help: string, read: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read() ?? 0);
        },
      });
    /** A gauge by namespace and `label`, each pair with one of `values` present (at 0), summed from `read` when scraped. */
    const byNamespace = <K extends 'transport' | 'kind'>(
      name: string,
      help: string,
      label: K,
      values: string[],
      read: () => Iterable<{ namespace: NamespaceName; count: number } & Record<K, string>> | undefined,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['namespace', label],
        registers,
        collect() {
          this.reset();
          type Labels = Partial<Record<'namespace' | K, string>>;
          for (const namespace of namespaces) for (const value of values) this.set({ namespace, [label]: value } as Labels, 0);
          for (const item of read() ?? []) this.inc({ namespace: item.namespace, [label]: item[label] } as Labels, item.count);
        },
      });
    sampled('parley_clients', 'Engine.IO connections on this node (one per client, whatever its namespaces)', () => probes.clients?.());
    byNamespace('parley_connections', 'Sockets on this node, by namespace and transport', 'transport', ['polling', 'websocket'], () =>
      probes.connections?.(),
    );
    byNamespace(
      'parley_rooms',
      "Rooms on this node with a member here, by namespace and kind (chat, or reserved such as user:<id>); sockets' own rooms excluded",
      'kind',
      ['chat', 'reserved'],
      () => probes.rooms?.(),
    );
    sampled('parley_fanout_jobs_active', 'Post fan-out jobs this node holds and has not finished (its share of the backlog)', () =>
      probes.fanoutActive?.(),
    );
    const queues = this.queues;
    new Gauge({
      name: 'parley_db_queue_pending',
      help: 'Items waiting for a database round trip in a batching queue (not those in flight)',
      labelNames: ['queue'],
      registers,
      collect() {
        for (const [queue, pending] of queues) this.set({ queue }, pending());
      },
    });

    // Every series of a bounded label set exists from the start, at 0.
    for (const namespace of namespaces) {
      for (const event of [...EVENT_NAMES[namespace].clientToServer, 'unknown']) this.eventsReceived.cell(namespace, event);
      for (const event of EVENT_NAMES[namespace].serverToClient) this.deliveries.cell(namespace, event);
    }
    for (const direction of ['published', 'received']) this.adapterMessages.cell(direction);
    this.adapterPublishErrors.cell();
    this.fanoutNotifications.cell();
    for (const outcome of ['done', 'failed']) this.fanoutJobs.cell(outcome);
    const transports: ErrorTransport[] = ['http', 'socket', 'handshake'];
    this.errorCells = Object.fromEntries(transports.map((t) => [t, this.errors.lookup([t], errorCodes, 'unknown')])) as Record<
      ErrorTransport,
      (code: string) => Cell
    >;
  }

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): CellCounter<L> {
    return new CellCounter(this.registry, name, help, labelNames);
  }

  private histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }

  /** Count an error answer with stable code `code` sent over `transport`. */
  refused(transport: ErrorTransport, code: string): void {
    this.errorCells[transport](code).value++;
  }

  /**
   * Watch batching queue `queue`: its waiting items (`pending`, read when scraped); the function
   * returned is its GroupCommit's `onWrite` (batch size and duration).
   */
  batching(queue: DbQueue, pending: () => number): (items: number, seconds: number, failed: boolean) => void {
    this.queues.set(queue, pending);
    return (items, seconds, failed) => {
      this.dbBatchSize.observe({ queue }, items);
      this.dbBatchDuration.observe({ queue, outcome: failed ? 'error' : 'ok' }, seconds);
    };
  }

  /** The content type of `exposition()`: Prometheus' text format. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric of this node and of its process, in Prometheus' text exposition format. */
  async exposition(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), defaultMetrics().metrics()]);
    return own + process;
  }
}
