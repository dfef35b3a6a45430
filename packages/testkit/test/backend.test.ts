import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, http, registerUser, startBackend, type ClientSocket, type TestBackend } from '@parley/testkit';

/**
 * The Redis back-end only proves cross-node paths if its proxy really spreads the traffic:
 * consecutive WebSockets and consecutive HTTP requests must land on different nodes.
 */
describe("startBackend('redis')", () => {
  let backend: TestBackend;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    backend = await startBackend({ backend: 'redis', postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl') });
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await backend?.close();
  });

  it('runs two nodes with ids of their own', () => {
    const ids = backend.nodes.map((n) => n.config.nodeId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it('alternates consecutive HTTP requests between the nodes', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await http<{ nodeId: string }>(backend.url, 'GET', '/healthz')).body.nodeId);
    expect(seen[0]).not.toBe(seen[1]);
    expect(seen.slice(2)).toEqual(seen.slice(0, 2));
  });

  it('alternates consecutive WebSockets between the nodes, HTTP requests in between or not', async () => {
    const session = await registerUser(backend.url);
    const holders: string[] = [];
    for (let i = 0; i < 4; i++) {
      const socket = await connect(backend.url, '/', session.token);
      sockets.push(socket);
      holders.push(backend.nodeOf(socket.id!).config.nodeId);
      if (i === 1) await http(backend.url, 'GET', '/healthz');
    }
    expect(holders[0]).not.toBe(holders[1]);
    expect(holders.slice(2)).toEqual(holders.slice(0, 2));
  });

  it('deletes the keys under its prefix on close', async () => {
    const other = await startBackend({ backend: 'redis', postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl') });
    const prefix = other.config.redis.keyPrefix;
    const redis = new Redis(inject('redisUrl'));
    try {
      const session = await registerUser(other.url);
      const socket = await connect(other.url, '/', session.token);
      await socket.timeout(5000).emitWithAck('join', { room: 'keys' });
      socket.close();
      // What presence keeps while the nodes run, after everyone left: the node registry.
      expect(await redis.exists(`{${prefix}}:presence:nodes`)).toBe(1);
      await other.close();
      expect(await redis.keys(`*${prefix}*`)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
