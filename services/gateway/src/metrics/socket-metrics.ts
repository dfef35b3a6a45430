import type { Namespace, Socket } from 'socket.io';
import { EVENT_NAMES, isReservedRoom, type NamespaceName } from '@parley/protocol';
import type { Cell } from './cell-counter.ts';
import type { Metrics } from './metrics.ts';

/**
 * socket.io-adapter 2.5's in-memory Adapter internals that every local broadcast goes through,
 * whichever adapter (in-memory, Redis classic or sharded; a broadcast received from another node
 * too): `broadcast` encodes the packet once (`_encode`), then calls `apply` with the broadcast's
 * rooms and exclusions. Both are called through the instance, so they can be wrapped per
 * namespace. metrics.test.ts fails if an upgrade changes this.
 */
interface AdapterInternals {
  rooms: Map<string, Set<string>>;
  sids: Map<string, Set<string>>;
  _encode: (this: AdapterInternals, packet: { data?: unknown[] }, packetOptions: unknown) => unknown;
  apply: (this: AdapterInternals, options: { rooms: Set<string>; except?: Set<string> }, callback: (socket: unknown) => void) => void;
}

/** Chat and private messages: their `timestamp` is when the server created them (before storing). */
const TIMED_EVENTS = new Set(['message', 'privateMessage']);

/**
 * Sockets of this node a broadcast to `rooms` except `except` reaches, counted from the room sizes:
 * O(1) for one room (or all sockets) with exclusions by socket id, every broadcast Parley makes
 * (`socket.to(room)`, `socket.broadcast`, `io.to(room).except(socket.id)`, `io.emit`). Other shapes
 * (several rooms, excluded rooms) are counted member by member, as `apply` does.
 */
export function localRecipients(adapter: Pick<AdapterInternals, 'rooms' | 'sids'>, rooms: Set<string>, except?: Set<string>): number {
  if (rooms.size <= 1) {
    const members = rooms.size === 0 ? adapter.sids : adapter.rooms.get(rooms.values().next().value as string);
    if (!members) return 0;
    let count = members.size;
    let bySocketId = true;
    for (const id of except ?? []) {
      // A socket's own room holds that socket only; a name that is no room here excludes nobody.
      if (adapter.sids.has(id)) count -= members.has(id) ? 1 : 0;
      else if (adapter.rooms.has(id)) bySocketId = false;
    }
    if (bySocketId) return count;
  }
  const excluded = new Set<string>();
  for (const room of except ?? []) for (const id of adapter.rooms.get(room) ?? []) excluded.add(id);
  const reached = new Set<string>();
  const sources = rooms.size === 0 ? [adapter.sids.keys()] : [...rooms].map((room) => adapter.rooms.get(room)?.values() ?? []);
  for (const ids of sources) for (const id of ids) if (!excluded.has(id)) reached.add(id);
  return reached.size;
}

/**
 * Count every local broadcast of `adapter`: `deliveries` gets its local recipients (one addition
 * per broadcast, not one per recipient), and a chat or private message with recipients here its
 * delivery latency (now minus its timestamp).
 */
function countBroadcasts(adapter: AdapterInternals, delivered: (event: string) => Cell, metrics: Metrics): void {
  const encode = adapter._encode;
  const apply = adapter.apply;
  let pending: unknown[] | undefined;
  adapter._encode = function (packet, packetOptions) {
    const encoded = encode.call(this, packet, packetOptions);
    pending = packet.data;
    return encoded;
  };
  adapter.apply = function (options, callback) {
    const data = pending;
    pending = undefined;
    if (data) {
      const count = localRecipients(this, options.rooms, options.except);
      const event = String(data[0]);
      delivered(event).value += count;
      const timestamp = (data[1] as { id?: unknown; timestamp?: unknown } | undefined)?.timestamp;
      if (count > 0 && TIMED_EVENTS.has(event) && typeof timestamp === 'string') {
        const seconds = (Date.now() - Date.parse(timestamp)) / 1000;
        if (seconds >= 0) metrics.deliveryLatency.observe({ event }, seconds);
      }
    }
    apply.call(this, options, callback);
  };
}

type Ack = (response: unknown) => void;

/**
 * Instrument namespace `namespace`: events received (by name; 'unknown' outside the contract),
 * ack latency and error acks, direct emits and `error` events, and every local broadcast. All of
 * it O(1) per event, per emit and per broadcast. Call before any other 'connection' listener.
 */
export function instrumentNamespace(nsp: Namespace, namespace: NamespaceName, metrics: Metrics): void {
  const received = metrics.eventsReceived.lookup([namespace], EVENT_NAMES[namespace].clientToServer, 'unknown');
  const delivered = metrics.deliveries.lookup([namespace], EVENT_NAMES[namespace].serverToClient, 'unknown');
  const known = new Set<string>(EVENT_NAMES[namespace].clientToServer);
  countBroadcasts(nsp.adapter as unknown as AdapterInternals, delivered, metrics);

  nsp.on('connection', (socket: Socket) => {
    socket.use((packet, next) => {
      const name = packet[0];
      received(name).value++;
      const last = packet.length - 1;
      const ack: unknown = packet[last];
      if (last > 0 && typeof ack === 'function' && known.has(name)) {
        const started = performance.now();
        packet[last] = ((response) => {
          const answer = response as { ok?: boolean; error?: { code?: unknown } } | undefined;
          const failed = answer?.ok === false;
          metrics.ackLatency.observe({ namespace, event: name, outcome: failed ? 'error' : 'ok' }, (performance.now() - started) / 1000);
          if (failed) metrics.refused('socket', String(answer.error?.code));
          (ack as Ack)(response);
        }) satisfies Ack;
      }
      next();
    });
    const emit = socket.emit.bind(socket) as (event: string, ...args: unknown[]) => boolean;
    (socket as { emit: typeof emit }).emit = (event, ...args) => {
      delivered(event).value++;
      if (event === 'error') metrics.refused('socket', String((args[0] as { code?: unknown } | undefined)?.code));
      return emit(event, ...args);
    };
  });
}

/** Sockets by namespace and transport, and rooms by namespace and kind, read when scraped. */
export function probeNamespaces(metrics: Metrics, namespaces: ReadonlyMap<NamespaceName, Namespace>): void {
  metrics.probes.connections = function* () {
    for (const [namespace, nsp] of namespaces) {
      const byTransport = new Map<string, number>();
      for (const socket of nsp.sockets.values()) {
        const transport = socket.conn.transport.name;
        byTransport.set(transport, (byTransport.get(transport) ?? 0) + 1);
      }
      for (const [transport, count] of byTransport) yield { namespace, transport, count };
    }
  };
  metrics.probes.rooms = function* () {
    for (const [namespace, nsp] of namespaces) {
      let chat = 0;
      let reserved = 0;
      for (const room of nsp.adapter.rooms.keys()) {
        if (nsp.adapter.sids.has(room)) continue;
        if (isReservedRoom(room)) reserved++;
        else chat++;
      }
      yield { namespace, kind: 'chat' as const, count: chat };
      yield { namespace, kind: 'reserved' as const, count: reserved };
    }
  };
}
