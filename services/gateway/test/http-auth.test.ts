import { connect as connectTcp } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HTTP_ROUTES, routePath, type RouteName } from '@parley/protocol';
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

describe('413 payload_too_large on every route that takes a body', () => {
  /** A JSON body of exactly `bytes` bytes. */
  const jsonOf = (bytes: number) => {
    const raw = JSON.stringify({ content: 'x'.repeat(bytes - '{"content":""}'.length) });
    expect(Buffer.byteLength(raw)).toBe(bytes);
    return raw;
  };

  it.each(Object.entries(HTTP_ROUTES).filter(([, route]) => route.method !== 'GET'))('%s: a body over 64 KiB', async (name, route) => {
    const { token } = await registerUser(node.url);
    const path = routePath(name as RouteName, { id: 1, userId: 1, room: 'lobby' });
    const res = await http(node.url, route.method, path, { token, raw: jsonOf(64 * 1024 + 1) });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 413,
      body: { error: { code: 'payload_too_large', message: expect.any(String) } },
    });
  });

  it('exactly 64 KiB is read (and judged on its content), one byte more is not', async () => {
    const { token } = await registerUser(node.url);
    const atLimit = await http(node.url, 'POST', '/posts', { token, raw: jsonOf(64 * 1024) });
    expect([atLimit.status, errorCode(atLimit)]).toEqual([400, 'invalid_payload']);
    const over = await http(node.url, 'POST', '/posts', { token, raw: jsonOf(64 * 1024 + 1) });
    expect([over.status, errorCode(over)]).toEqual([413, 'payload_too_large']);
  });
});

describe('requests Node refuses before routing answer in the contract shape (found by the fuzz suite)', () => {
  /** What a node answers to `raw` written on a fresh TCP connection. */
  const rawExchange = (raw: string) =>
    new Promise<string>((resolve, reject) => {
      const { port } = new URL(node.nodes[0]?.url ?? '');
      const socket = connectTcp(Number(port), '127.0.0.1', () => socket.end(raw));
      let answer = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
      socket.on('end', () => resolve(answer)).on('error', reject);
    });
  const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as unknown;

  it('a URL or headers over 16 KiB: 413 payload_too_large', async () => {
    const answer = await rawExchange(`GET /posts?before=${'1'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(bodyOf(answer)).toEqual({ error: { code: 'payload_too_large', message: expect.any(String) } });
  });

  it('a malformed request: 400 invalid_payload', async () => {
    const answer = await rawExchange('GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(bodyOf(answer)).toEqual({ error: { code: 'invalid_payload', message: expect.any(String) } });
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

  it('401 token_revoked once the account is deleted', async () => {
    const { user, token } = await registerUser(node.url);
    await node.db.query('DELETE FROM users WHERE id = $1', [user.id]);
    const res = await http(node.url, 'GET', '/me', { token });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('token_revoked');
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

  it('when the database is gone: /readyz 503, /healthz 200, calls that need it unavailable (503), sockets stay connected', async () => {
    const doomed = await startTestBackend();
    try {
      const alice = await registerAndConnect(doomed.url);
      await request(alice.socket, 'join', { room: 'lobby' });
      await doomed.db.drop();
      const res = await http(doomed.url, 'GET', '/readyz');
      expect(res).toMatchObject({ status: 503, body: { status: 'unavailable', checks: { database: 'down' } } });
      expect((await http(doomed.url, 'GET', '/healthz')).status).toBe(200);
      const unavailable = { error: { code: 'unavailable', message: 'A dependency is unavailable' } };
      for (const [method, path, options] of [
        ['GET', '/me', { token: alice.token }],
        ['POST', '/auth/login', { body: { username: alice.user.username, password: 'password123' } }],
        ['GET', '/posts', {}],
        ['GET', '/rooms/lobby/messages', { token: alice.token }],
      ] as const) {
        const answer = await http(doomed.url, method, path, options);
        expect({ path, status: answer.status, body: answer.body }).toEqual({ path, status: 503, body: unavailable });
      }
      expect(await request(alice.socket, 'chatMessage', 'into the void')).toEqual({ ok: false, ...unavailable });
      expect(alice.socket.connected).toBe(true);
      // A new handshake cannot look its user up: refused as unavailable, not as a bad token.
      const err = await connectError(doomed.url, '/', alice.token);
      expect(err.data?.code).toBe('unavailable');
      alice.socket.close();
    } finally {
      await doomed.close();
    }
  });

  it('an unexpected failure on a working database is 500 internal_error, with no internals in the answer', async () => {
    const alice = await registerAndConnect(node.url);
    await request(alice.socket, 'join', { room: 'lobby' });
    const internal = { error: { code: 'internal_error', message: 'Internal error' } };
    // Columns renamed under the running node: its queries now fail inside PostgreSQL (42703),
    // on connections that are fine. Not a dependency being down: a bug-like failure.
    await node.db.query('ALTER TABLE posts RENAME COLUMN content TO content_gone');
    await node.db.query('ALTER TABLE messages RENAME COLUMN text TO text_gone');
    await node.db.query('ALTER TABLE users RENAME COLUMN role TO role_gone');
    try {
      expect(await http(node.url, 'GET', '/readyz')).toMatchObject({ status: 200, body: { checks: { database: 'ok' } } });
      const posts = await http(node.url, 'GET', '/posts');
      expect({ status: posts.status, body: posts.body }).toEqual({ status: 500, body: internal });
      const me = await http(node.url, 'GET', '/me', { token: alice.token });
      expect({ status: me.status, body: me.body }).toEqual({ status: 500, body: internal });
      expect(await request(alice.socket, 'chatMessage', 'into a broken table')).toEqual({ ok: false, ...internal });
      expect(alice.socket.connected).toBe(true);
      const err = await connectError(node.url, '/', alice.token);
      expect({ message: err.message, data: err.data }).toEqual({ message: 'Authentication error', data: internal.error });
    } finally {
      await node.db.query('ALTER TABLE posts RENAME COLUMN content_gone TO content');
      await node.db.query('ALTER TABLE messages RENAME COLUMN text_gone TO text');
      await node.db.query('ALTER TABLE users RENAME COLUMN role_gone TO role');
    }
    expect(await request(alice.socket, 'chatMessage', 'fixed')).toMatchObject({ ok: true });
    alice.socket.close();
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
      headers: {
        origin: 'http://client.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://client.example');
  });

  it('does not allow another origin', async () => {
    const res = await http(node.url, 'GET', '/healthz', { headers: { origin: 'http://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const ok = await http(node.url, 'GET', '/healthz', { headers: { origin: 'http://client.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://client.example');
  });

  it('applies to the Socket.IO polling handshake too: the configured origin is allowed, another is not', async () => {
    const handshake = new URL('/socket.io/?EIO=4&transport=polling', node.url);
    const res = await fetch(handshake, { headers: { origin: 'http://client.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('http://client.example');
    await res.text();

    // The refusal a browser acts on: no Access-Control-Allow-Origin, on the preflight or the GET.
    const preflight = await fetch(handshake, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    await preflight.text();
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const evil = await fetch(handshake, { headers: { origin: 'http://evil.example' } });
    await evil.text();
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });
});
