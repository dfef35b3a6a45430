import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Redis } from 'ioredis';
import { connect, registerUser, request, startBackend, within, type ClientSocket, type TestBackend } from '@parley/testkit';

// Two nodes on Redis whatever the project: this is about a node that lost its subscription.
let backend: TestBackend;
let redis: Redis;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  backend = await startBackend({ backend: 'redis', postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl') });
  redis = new Redis(inject('redisUrl'), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  redis?.disconnect();
  await backend?.close();
});

describe('a node that lost its Redis subscription', () => {
  it('checks its sockets against their accounts when it is back, ending those whose token was revoked meanwhile', async () => {
    const [revoked, untouched] = await Promise.all([registerUser(backend.url), registerUser(backend.url)]);
    const victim = await connect(backend.url, '/', revoked.token);
    sockets.push(victim);
    const node = backend.nodeOf(victim.id!);
    // The bystander on the same node: connect until the round robin puts one there.
    let bystander = await connect(backend.url, '/', untouched.token);
    sockets.push(bystander);
    if (backend.nodeOf(bystander.id!) !== node) {
      bystander = await connect(backend.url, '/', untouched.token);
      sockets.push(bystander);
    }
    expect(backend.nodeOf(bystander.id!)).toBe(node);

    const ended = within(
      "the victim's session to end",
      Promise.all([
        new Promise<{ code: string }>((resolve) => victim.once('error', resolve)),
        new Promise<string>((resolve) => victim.once('disconnect', resolve)),
      ]),
    );
    // A revocation this node never heard of (as if published while it was cut off)...
    await backend.db.query('UPDATE users SET token_version = token_version + 1 WHERE id = $1', [revoked.user.id]);
    // ...then its subscriber connection drops; ioredis reconnects it at once.
    const clients = (await redis.client('LIST')) as string;
    const line = clients.split('\n').find((l) => l.includes(`name=parley:${node.config.nodeId}:sub `));
    expect(line, 'the node has a named subscriber connection').toBeDefined();
    await redis.client('KILL', 'ID', /\bid=(\d+)/.exec(line!)![1]!);

    expect(await ended).toEqual([expect.objectContaining({ code: 'token_revoked' }), 'io server disconnect']);
    expect(await request(bystander, 'join', { room: 'still_here' })).toMatchObject({ ok: true });
  });
});
