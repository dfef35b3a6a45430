import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, getFrom, startNginx, startRedisServer } from '@parley/devcluster';

// The launchers of programs that must be told their port: a port picked free and then taken
// by another process before the program binds it must not fail the start (it is retried).
const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
});
const upstream = createHttpServer((_req, res) => res.end(JSON.stringify({ nodeId: 'upstream' })));

/** A port some other process holds: the first pick of `pickPort`, then free ones. */
async function firstPickTaken(): Promise<{ taken: number; pickPort: () => Promise<number> }> {
  const holder = createServer((socket) => socket.destroy());
  servers.push(holder);
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const taken = (holder.address() as { port: number }).port;
  let picks = 0;
  return { taken, pickPort: () => (picks++ === 0 ? Promise.resolve(taken) : freePort()) };
}

describe('testkit launchers retry on a port taken meanwhile', () => {
  it('redis-server', async () => {
    const { taken, pickPort } = await firstPickTaken();
    const redis = await startRedisServer(pickPort);
    try {
      expect(redis.port).not.toBe(taken);
      const client = new Redis(redis.url);
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await redis.stop();
    }
  });

  it('nginx', async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const { taken, pickPort } = await firstPickTaken();
    const nginx = await startNginx([`127.0.0.1:${(upstream.address() as { port: number }).port}`], { pickPort });
    try {
      expect(nginx.port).not.toBe(taken);
      expect(await getFrom(nginx.url, '/healthz', '127.0.0.1')).toEqual({ status: 200, body: { nodeId: 'upstream' } });
    } finally {
      await nginx.stop();
    }
  });
});
