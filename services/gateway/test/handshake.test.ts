import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMESPACES } from '@parley/protocol';
import { connect, connectError, http, registerUser, request, signToken, tokenFor, type Session, type TestBackend } from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

const ADMIN = { username: 'root_admin', password: 'admin-password-1' };

let node: TestBackend;
let alice: Session;
beforeAll(async () => {
  node = await startTestBackend({ ADMIN_USERNAME: ADMIN.username, ADMIN_PASSWORD: ADMIN.password });
  alice = await registerUser(node.url);
});
afterAll(() => node?.close());

const namespaces = Object.values(NAMESPACES);

describe.each(namespaces)('handshake on %s', (nsp) => {
  it.each([
    ['no token', () => undefined],
    ['an empty token', () => ''],
    ['a malformed token', () => 'definitely-not-a-jwt'],
    ['a token signed with another secret', () => tokenFor(alice.user, { secret: 'another-secret-0123456789abcdef' })],
    ['a token with a non-numeric subject', () => signToken({ sub: 'alice', username: 'alice', role: 'user' })],
    ['a token with a subject beyond the id range', () => signToken({ sub: String(2 ** 40), username: 'alice', role: 'user' })],
    ['a token with the alg "none"', () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${tokenFor(alice.user).split('.')[1]}.`],
  ])('refuses %s: Authentication error / unauthorized', async (_name, token) => {
    const err = await connectError(node.url, nsp, token());
    expect(err.message).toBe('Authentication error');
    expect(err.data?.code).toBe('unauthorized');
  });

  it('refuses a non-string token', async () => {
    const err = await connectError(node.url, nsp, undefined, { auth: { token: { forged: true } } });
    expect(err.message).toBe('Authentication error');
    expect(err.data?.code).toBe('unauthorized');
  });

  it('refuses an expired token with token_expired', async () => {
    const err = await connectError(node.url, nsp, tokenFor(alice.user, { expiresInSec: -5 }));
    expect(err.message).toBe('Authentication error');
    expect(err.data?.code).toBe('token_expired');
  });

  it('refuses the token of a deleted user as revoked', async () => {
    const gone = await registerUser(node.url);
    await node.db.query('DELETE FROM users WHERE id = $1', [gone.user.id]);
    const err = await connectError(node.url, nsp, gone.token);
    expect(err.message).toBe('Authentication error');
    expect(err.data?.code).toBe('token_revoked');
  });
});

describe.each([NAMESPACES.main, NAMESPACES.user, NAMESPACES.notifications])('%s with a valid token', (nsp) => {
  it('connects, also with the token in an Authorization header', async () => {
    const viaAuth = await connect(node.url, nsp, alice.token);
    const viaHeader = await connect(node.url, nsp, undefined, { extraHeaders: { authorization: `Bearer ${alice.token}` } });
    expect(viaAuth.connected && viaHeader.connected).toBe(true);
    viaAuth.close();
    viaHeader.close();
  });
});

describe('a lesson-style client (default transports: long-polling, then the upgrade)', () => {
  // Long-polling needs all requests of a session on one node (sticky sessions in production):
  // straight to a node, not through the round-robin proxy of the Redis back-end.
  const sticky = () => node.nodes[0]!.url;

  it('connects with auth {token}, joins and chats', async () => {
    const socket = await connect(sticky(), NAMESPACES.main, alice.token, { transports: ['polling', 'websocket'] });
    expect(await request(socket, 'join', { room: 'lesson' })).toMatchObject({ ok: true });
    expect(await request(socket, 'chatMessage', 'over polling')).toMatchObject({ ok: true, id: expect.any(Number) });
    socket.close();
  });

  it('is refused over long-polling too', async () => {
    const err = await connectError(sticky(), NAMESPACES.main, 'bad-token', { transports: ['polling'] });
    expect(err.data?.code).toBe('unauthorized');
  });
});

describe('/user', () => {
  it('whoami answers with the stored user', async () => {
    const socket = await connect(node.url, NAMESPACES.user, tokenFor({ ...alice.user, username: 'claimed_name' }));
    expect(await request(socket, 'whoami')).toEqual({ ok: true, user: alice.user });
    socket.close();
  });
});

describe('/admin', () => {
  it("refuses a user: 'Forbidden' / forbidden", async () => {
    const err = await connectError(node.url, NAMESPACES.admin, alice.token);
    expect(err.message).toBe('Forbidden');
    expect(err.data?.code).toBe('forbidden');
  });

  it('refuses a user whose token claims the admin role (the stored role counts)', async () => {
    const err = await connectError(node.url, NAMESPACES.admin, tokenFor({ ...alice.user, role: 'admin' }));
    expect(err.data?.code).toBe('forbidden');
  });

  it('accepts the admin', async () => {
    const { body } = await http<Session>(node.url, 'POST', '/auth/login', { body: ADMIN });
    expect(body.user.role).toBe('admin');
    const socket = await connect(node.url, NAMESPACES.admin, body.token);
    expect(socket.connected).toBe(true);
    socket.close();
  });
});
