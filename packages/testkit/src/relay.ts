import { connect, createServer, type Socket } from 'node:net';

export interface Relay {
  /** Where a browser opens the page: `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /**
   * The network of this client drops, but what is already on WebSocket keeps going (until its
   * node dies): every other open connection is cut (idle keep-alive ones would otherwise carry
   * the reconnection), and new connections wait until `release()`.
   */
  hold(): void;
  /** The network is back: waiting connections go through. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 (ephemeral port) to `target` whose outgoing connections leave from
 * `localAddress` (a loopback address): a browser behind it looks like a client at that address
 * to nginx, whose `hash $remote_addr` then pins it to one node (see addressesByNode). It forwards
 * bytes untouched, WebSockets included.
 */
export async function startRelay(target: { host: string; port: number }, localAddress: string): Promise<Relay> {
  /** Open client connections, and whether each carries a WebSocket. */
  const open = new Map<Socket, { websocket: boolean }>();
  let waiting: Socket[] | undefined;

  const forward = (client: Socket) => {
    const entry = { websocket: false };
    open.set(client, entry);
    const upstream = connect({ host: target.host, port: target.port, localAddress });
    client.on('data', (chunk: Buffer) => {
      if (!entry.websocket && /^upgrade:\s*websocket\s*$/im.test(chunk.toString('latin1'))) entry.websocket = true;
    });
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => {
      open.delete(client);
      upstream.destroy();
    });
    client.pipe(upstream).pipe(client);
    client.resume();
  };

  const server = createServer({ pauseOnConnect: true }, (client) => {
    client.on('error', () => client.destroy());
    if (waiting) waiting.push(client);
    else forward(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hold: () => {
      waiting ??= [];
      for (const [client, { websocket }] of open) if (!websocket) client.destroy();
    },
    release: () => {
      const clients = waiting ?? [];
      waiting = undefined;
      for (const client of clients) if (!client.destroyed) forward(client);
    },
    close: async () => {
      for (const client of [...open.keys(), ...(waiting ?? [])]) client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
