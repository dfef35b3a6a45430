import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** Longest request head the proxy reads before it picks a node (a handshake is far smaller). */
const MAX_HEAD_BYTES = 16 * 1024;

/**
 * The request head with `Connection: close`: the node closes the connection after answering, so
 * the client's next request opens a new one, which goes to the next node (a balancer routes each
 * request, not each connection).
 */
function oneRequestOnly(headers: string): string {
  const lines = headers.split('\r\n').filter((line) => !/^(connection|keep-alive)\s*:/i.test(line));
  return [...lines, 'Connection: close'].join('\r\n');
}

export interface RoundRobinProxy {
  url: string;
  port: number;
  /** How many connections went to each target so far: `{ websocket, http }` per target, in order. */
  counts(): { websocket: number; http: number }[];
  /** Stop listening and cut every open connection. */
  close(): Promise<void>;
}

/**
 * A TCP proxy on 127.0.0.1 (ephemeral port) that hands each incoming connection to the next of
 * `targets` in turn, like a load balancer without stickiness. WebSocket upgrades and plain HTTP
 * requests take turns separately, so consecutive Socket.IO clients alternate between the
 * targets whatever HTTP requests (register, login…) happen between them, and consecutive HTTP
 * requests alternate too (each gets `Connection: close`, hence a connection of its own). A
 * WebSocket is one TCP connection, hence sticky by construction; long-polling (several
 * requests) is not: connect polling clients to a target directly.
 */
export async function startRoundRobinProxy(targets: { host: string; port: number }[]): Promise<RoundRobinProxy> {
  if (targets.length === 0) throw new Error('startRoundRobinProxy: no targets');
  const next = { websocket: 0, http: 0 };
  const counts = targets.map(() => ({ websocket: 0, http: 0 }));
  const open = new Set<Socket>();

  const server = createServer((client) => {
    open.add(client);
    client.once('close', () => open.delete(client));
    client.on('error', () => client.destroy());
    // Read the request head first: whether it asks for a WebSocket upgrade decides whose turn it is.
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_HEAD_BYTES) return;
      client.off('data', onData);
      client.pause();
      const headers = head.subarray(0, end < 0 ? head.length : end).toString('latin1');
      const kind = /^upgrade:\s*websocket\s*$/im.test(headers) ? 'websocket' : 'http';
      if (kind === 'http' && end >= 0) head = Buffer.concat([Buffer.from(oneRequestOnly(headers), 'latin1'), head.subarray(end)]);
      const index = next[kind]++ % targets.length;
      counts[index]![kind] += 1;
      const target = targets[index]!;
      const upstream = connect(target.port, target.host);
      open.add(upstream);
      // An orderly close is passed on by pipe() (end after the last byte); a reset cuts the other side.
      upstream.once('close', (hadError) => {
        open.delete(upstream);
        if (hadError) client.destroy();
      });
      client.once('close', (hadError) => {
        if (hadError) upstream.destroy();
      });
      upstream.on('error', () => upstream.destroy());
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts: () => counts.map((c) => ({ ...c })),
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await closed;
    },
  };
}
