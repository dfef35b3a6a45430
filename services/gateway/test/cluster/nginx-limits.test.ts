import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  connect,
  connectError,
  getFrom,
  registerUser,
  request,
  within,
  startNginx,
  startNodeWithDatabase,
  type ClientSocket,
  type NginxProcess,
  type Session,
  type TestNodeWithDatabase,
} from '@parley/testkit';

// nginx's optional per-IP connection limit, for real: a node behind Debian's nginx rendered
// with a limit of 3. Clients on other loopback addresses look like other IPs to nginx.
const LIMIT = 3;
let node: TestNodeWithDatabase;
let nginx: NginxProcess;
let alice: Session;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  node = await startNodeWithDatabase(inject('postgresUrl'));
  nginx = await startNginx([`127.0.0.1:${node.port}`], { perIpConnections: LIMIT });
  alice = await registerUser(node.url);
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await nginx.stop();
  await node.close();
});

/** Client options leaving from `localAddress` (engine.io-client hands it to ws; its types leave it out). */
const from = (localAddress: string) => ({ localAddress }) as object;

/** A WebSocket through nginx from `localAddress`. */
async function open(localAddress: string): Promise<ClientSocket> {
  const socket = await connect(nginx.url, '/', alice.token, from(localAddress));
  sockets.push(socket);
  return socket;
}

describe('nginx per-IP connection limit', () => {
  it('refuses the (N+1)th concurrent connection of one address with 429 rate_limited; other addresses and the N open ones keep working', async () => {
    const held = [];
    for (let i = 0; i < LIMIT; i++) held.push(await open('127.0.0.1'));

    // The next one from the same address: HTTP and WebSocket alike.
    expect(await getFrom(nginx.url, '/healthz', '127.0.0.1')).toEqual({
      status: 429,
      body: { error: { code: 'rate_limited', message: expect.any(String) as string } },
    });
    const refused = await connectError(nginx.url, '/', alice.token, from('127.0.0.1'));
    expect(refused.message).toBe('websocket error');

    // Another address is not affected.
    expect((await getFrom(nginx.url, '/healthz', '127.0.0.2')).status).toBe(200);
    const other = await open('127.0.0.2');
    expect(await request(other, 'join', { room: 'limits' })).toMatchObject({ ok: true });

    // The N held connections still work.
    for (const socket of held) expect(await request(socket, 'join', { room: 'limits' })).toMatchObject({ ok: true });

    // Once one of them has closed, the address may connect again. nginx frees the slot when it
    // finalizes the request, just before it closes the client's TCP connection: wait for that
    // close (the node may see the socket go earlier, on the WebSocket close frame).
    const first = held[0] as ClientSocket;
    const ws = (first.io.engine.transport as unknown as { ws: { once(event: 'close', listener: () => void): void } }).ws;
    const closed = within('nginx to close the connection', new Promise<void>((resolve) => ws.once('close', () => resolve())));
    first.close();
    await closed;
    expect((await getFrom(nginx.url, '/healthz', '127.0.0.1')).status).toBe(200);
    expect((await open('127.0.0.1')).connected).toBe(true);
  });
});
