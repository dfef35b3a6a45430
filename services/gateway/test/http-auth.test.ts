import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectError,
  http,
  registerAndConnect,
  registerUser,
  request,
  tokenFor,
  uniqueName,
  type Session,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

let node: TestBackend;
beforeAll(async () => {
  node = await startTestBackend({ CLIENT_URL: 'http://client.example' });
});
afterAll(() => node?.close());

const errorCode = (res: { body: unknown }) => (res.body as { error: { code: string } }).error.code;

describe('POST /auth/register', () => {
  it('creates a user and returns a token that works on /me', async () => {
    const username = uniqueName();
    const res = await http<Session>(node.url, 'POST', '/auth/register', { body: { username, password: 'password123' } });
    expect(res.status).toBe(201);
    expect(res.body.user).toEqual({ id: expect.any(Number), username, role: 'user' });
    expect(typeof res.body.token).toBe('string');
    const me = await http(node.url, 'GET', '/me', { token: res.body.token });
    expect(me).toMatchObject({ status: 200, body: { user: res.body.user } });
  });

  it('stores a password hash, never the password', async () => {
    const { user } = await registerUser(node.url, uniqueName(), 'plain-text-secret');
    const [row] = await node.db.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    expect(row?.password_hash).toMatch(/^scrypt\$/);
    expect(row?.password_hash).not.toContain('plain-text-secret');
  });

  it('409 username_taken for an existing username', async () => {
    const { user } = await registerUser(node.url);
    const res = await http(node.url, 'POST', '/auth/register', { body: { username: user.username, password: 'another-pass' } });
    expect(res.status).toBe(409);
    expect(errorCode(res)).toBe('username_taken');
  });

  it.each([
    ['no body fields', {}],
    ['missing password', { username: 'someone' }],
    ['missing username', { password: 'password123' }],
    ['username too short', { username: 'ab', password: 'password123' }],
    ['username too long', { username: 'a'.repeat(33), password: 'password123' }],
    ['username with a space', { username: 'bad name', password: 'password123' }],
    ['username with a slash', { username: 'bad/name', password: 'password123' }],
    ['username not a string', { username: 12345, password: 'password123' }],
    ['password too short', { username: 'valid_name', password: 'short' }],
    ['password too long', { username: 'valid_name', password: 'p'.repeat(129) }],
    ['password not a string', { username: 'valid_name', password: 12345678 }],
    ['an array', [{ username: 'valid_name', password: 'password123' }]],
    ['a string', 'valid_name:password123'],
    ['null', null],
  ])('400 invalid_payload for %s', async (_name, body) => {
    const res = await http(node.url, 'POST', '/auth/register', { body });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('invalid_payload');
  });

  it.each(['/auth/register', '/auth/login'])('400 invalid_payload for malformed JSON on %s', async (path) => {
    for (const raw of ['{"username": "x",', 'not json', '']) {
      const res = await http(node.url, 'POST', path, { raw });
      expect(res.status, raw).toBe(400);
      expect(errorCode(res)).toBe('invalid_payload');
    }
  });

  it('400 invalid_payload for a body that is not JSON', async () => {
    const res = await http(node.url, 'POST', '/auth/register', {
      raw: 'username=a&password=b',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('invalid_payload');
  });

  it('413 payload_too_large for a body over the limit', async () => {
    const res = await http(node.url, 'POST', '/auth/register', { body: { username: 'big', password: 'x'.repeat(70_000) } });
    expect(res.status).toBe(413);
    expect(errorCode(res)).toBe('payload_too_large');
  });
});

describe('POST /auth/login', () => {
  it('returns a token and the user for the right password', async () => {
    const { user } = await registerUser(node.url, uniqueName(), 'right-password');
    const res = await http<Session>(node.url, 'POST', '/auth/login', { body: { username: user.username, password: 'right-password' } });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(user);
    const me = await http(node.url, 'GET', '/me', { token: res.body.token });
    expect(me.status).toBe(200);
  });

  it.each([
    ['a wrong password', 'wrong-password'],
    ['a password outside the rules', 'x'],
  ])('401 invalid_credentials for %s', async (_name, password) => {
    const { user } = await registerUser(node.url);
    const res = await http(node.url, 'POST', '/auth/login', { body: { username: user.username, password } });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('invalid_credentials');
  });

  it.each([
    ['an unknown user', uniqueName()],
    ['a name no account can have', 'no such name!'],
    ['a NUL character in the name', 'a\u0000b'],
  ])('401 invalid_credentials for %s', async (_name, username) => {
    const res = await http(node.url, 'POST', '/auth/login', { body: { username, password: 'password123' } });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('invalid_credentials');
  });

  it('401 invalid_credentials, not a 500, when the stored hash is malformed', async () => {
    const { user } = await registerUser(node.url);
    await node.db.query(`UPDATE users SET password_hash = 'scrypt$3$8$1$AAAA$AAAA' WHERE id = $1`, [user.id]);
    const res = await http(node.url, 'POST', '/auth/login', { body: { username: user.username, password: 'password123' } });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('invalid_credentials');
  });

  it.each([
    ['missing password', { username: 'someone' }],
    ['non-string fields', { username: 1, password: 2 }],
    ['an array', []],
  ])('400 invalid_payload for %s', async (_name, body) => {
    const res = await http(node.url, 'POST', '/auth/login', { body });
    expect(res.status).toBe(400);
    expect(errorCode(res)).toBe('invalid_payload');
  });
});

describe('GET /me', () => {
  it.each([
    ['no Authorization header', undefined],
    ['a token signed with another secret', tokenFor({ id: 1, username: 'x' }, { secret: 'some-other-secret-0123456789' })],
    ['a malformed token', 'not.a.jwt'],
    ['a subject beyond the id range', tokenFor({ id: 2 ** 40, username: 'x' })],
  ])('401 unauthorized with %s', async (_name, token) => {
    const res = await http(node.url, 'GET', '/me', token === undefined ? {} : { token });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('unauthorized');
  });

  it('401 unauthorized for a scheme other than Bearer', async () => {
    const { token } = await registerUser(node.url);
    const res = await http(node.url, 'GET', '/me', { headers: { authorization: `Basic ${token}` } });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('unauthorized');
  });

  it('401 token_expired for an expired token', async () => {
    const { user } = await registerUser(node.url);
    const res = await http(node.url, 'GET', '/me', { token: tokenFor(user, { expiresInSec: -10 }) });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('token_expired');
  });

  it('401 unauthorized once the account is deleted', async () => {
    const { user, token } = await registerUser(node.url);
    await node.db.query('DELETE FROM users WHERE id = $1', [user.id]);
    const res = await http(node.url, 'GET', '/me', { token });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('unauthorized');
  });

  it('answers with the stored user, not the claims of the token', async () => {
    const { user } = await registerUser(node.url);
    const res = await http(node.url, 'GET', '/me', { token: tokenFor({ ...user, username: 'someone_else', role: 'admin' }) });
    expect(res).toMatchObject({ status: 200, body: { user } });
  });
});

describe('health', () => {
  it('GET /healthz answers ok with the node id', async () => {
    for (const { url, config } of node.nodes) {
      const res = await http(url, 'GET', '/healthz');
      expect(res).toMatchObject({ status: 200, body: { status: 'ok', nodeId: config.nodeId } });
    }
  });

  it('GET /readyz answers 200 while the database answers', async () => {
    const res = await http(node.url, 'GET', '/readyz');
    expect(res).toMatchObject({ status: 200, body: { status: 'ready', checks: { database: 'ok' } } });
  });

  it('when the database is gone: /readyz 503, /healthz 200, sockets get errors but stay connected', async () => {
    const doomed = await startTestBackend();
    try {
      const alice = await registerAndConnect(doomed.url);
      await request(alice.socket, 'join', { room: 'lobby' });
      await doomed.db.drop();
      const res = await http(doomed.url, 'GET', '/readyz');
      expect(res).toMatchObject({ status: 503, body: { status: 'unavailable', checks: { database: 'down' } } });
      expect((await http(doomed.url, 'GET', '/healthz')).status).toBe(200);
      expect(await request(alice.socket, 'chatMessage', 'into the void')).toMatchObject({ ok: false, error: { code: 'internal_error' } });
      expect(alice.socket.connected).toBe(true);
      // A new handshake cannot look its user up: refused as unavailable, not as a bad token.
      const err = await connectError(doomed.url, '/', alice.token);
      expect(err.data?.code).toBe('unavailable');
      alice.socket.close();
    } finally {
      await doomed.close();
    }
  });

  it('404 not_found for an unknown route', async () => {
    const res = await http(node.url, 'GET', '/nope');
    expect(res.status).toBe(404);
    expect(errorCode(res)).toBe('not_found');
  });
});

describe('CORS from CLIENT_URL', () => {
  it('allows the configured origin on a preflight', async () => {
    const res = await fetch(new URL('/auth/login', node.url), {
      method: 'OPTIONS',
      headers: { origin: 'http://client.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://client.example');
  });

  it('does not allow another origin', async () => {
    const res = await http(node.url, 'GET', '/healthz', { headers: { origin: 'http://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const ok = await http(node.url, 'GET', '/healthz', { headers: { origin: 'http://client.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://client.example');
  });

  it('applies to the Socket.IO polling handshake too', async () => {
    const res = await fetch(new URL('/socket.io/?EIO=4&transport=polling', node.url), { headers: { origin: 'http://client.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://client.example');
    await res.text();
  });
});
