import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Manager } from 'socket.io-client';
import type { ErrorBody } from '@parley/protocol';
import {
  connect,
  connectError,
  http,
  login,
  registerUser,
  request,
  tokenFor,
  within,
  type ClientSocket,
  type Session,
  type TestBackend,
} from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

/** The room-events burst (RATE_LIMIT_BURST 20 by default, at least 2 × 50 rooms: docs/PROTOCOL.md), which refreshToken shares. */
const REFRESH_BURST = 100;
/** How long a revocation may take to reach every socket of the user, on every node (the contract's bound). */
const REVOCATION_BOUND_MS = 2000;

let node: TestBackend;
const sockets: ClientSocket[] = [];
beforeAll(async () => {
  node = await startTestBackend();
});
afterAll(async () => {
  for (const s of sockets) s.close();
  await node?.close();
});

async function open(namespace: string, token: string): Promise<ClientSocket> {
  const socket = await connect(node.url, namespace, token);
  sockets.push(socket);
  return socket;
}

const errorCode = (res: { body: unknown }) => (res.body as { error: { code: string } }).error.code;

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/**
 * The 'error' event and then the server-side disconnect a socket gets when its session ends,
 * within `timeoutMs`; listeners attached now, before whatever ends it.
 */
function sessionEnd(socket: ClientSocket, what: string, timeoutMs: number): Promise<{ error: ErrorBody; reason: string }> {
  const error = new Promise<ErrorBody>((resolve) => socket.once('error', resolve));
  const reason = new Promise<string>((resolve) => socket.once('disconnect', resolve));
  return within(
    `${what}: 'error' then disconnect`,
    Promise.all([error, reason]).then(([e, r]) => ({ error: e, reason: r })),
    timeoutMs,
  );
}

describe('tokens', () => {
  it('carry sub, iss "parley", iat, exp and the token version', async () => {
    const { token, user } = await registerUser(node.url);
    const claims = claimsOf(token);
    expect(claims).toMatchObject({ sub: String(user.id), iss: 'parley', ver: 0 });
    expect(claims.iat).toEqual(expect.any(Number));
    expect(claims.exp).toEqual(expect.any(Number));
  });

  it('a token of another issuer, or without a version, is refused', async () => {
    const { user } = await registerUser(node.url);
    for (const token of [tokenFor(user, { claims: { iss: 'someone-else' } }), tokenFor(user, { claims: { ver: undefined } })]) {
      const res = await http(node.url, 'GET', '/me', { token });
      expect(res.status).toBe(401);
      expect(['unauthorized', 'token_revoked']).toContain(errorCode(res));
    }
  });
});

describe('POST /auth/refresh', () => {
  it('returns a new token for the same user and version; the old one keeps working until it expires', async () => {
    const session = await registerUser(node.url);
    const res = await http<Session>(node.url, 'POST', '/auth/refresh', { token: session.token });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(session.user);
    expect(claimsOf(res.body.token)).toMatchObject({ sub: String(session.user.id), ver: 0, iss: 'parley' });
    for (const token of [res.body.token, session.token]) expect((await http(node.url, 'GET', '/me', { token })).status).toBe(200);
  });

  it('401 without a token or with an expired one', async () => {
    expect(errorCode(await http(node.url, 'POST', '/auth/refresh'))).toBe('unauthorized');
    const { user } = await registerUser(node.url);
    const expired = await http(node.url, 'POST', '/auth/refresh', { token: tokenFor(user, { expiresInSec: -10 }) });
    expect(expired.status).toBe(401);
    expect(errorCode(expired)).toBe('token_expired');
  });
});

describe('POST /auth/password', () => {
  it('401 invalid_credentials with a wrong current password; 400 for an invalid new one; nothing changes', async () => {
    const session = await registerUser(node.url);
    const wrong = await http(node.url, 'POST', '/auth/password', {
      token: session.token,
      body: { currentPassword: 'not-my-password', newPassword: 'brand-new-password' },
    });
    expect(wrong.status).toBe(401);
    expect(errorCode(wrong)).toBe('invalid_credentials');
    const invalid = await http(node.url, 'POST', '/auth/password', {
      token: session.token,
      body: { currentPassword: 'password123', newPassword: 'short' },
    });
    expect(invalid.status).toBe(400);
    expect(errorCode(invalid)).toBe('invalid_payload');
    expect((await http(node.url, 'GET', '/me', { token: session.token })).status).toBe(200);
    await login(node.url, session.user.username, 'password123');
  });

  it('changes the password, revokes every older token (HTTP, handshake, live sockets on every node) and returns a new one', async () => {
    const session = await registerUser(node.url);
    // Two sockets in a row: on two different nodes in Redis mode (round robin), and one on /notifications.
    const first = await open('/', session.token);
    const second = await open('/', session.token);
    const notifications = await open('/notifications', session.token);
    if (node.nodes.length > 1) expect(node.nodeOf(first.id!)).not.toBe(node.nodeOf(second.id!));
    const ends = [first, second, notifications].map((s, i) => sessionEnd(s, `socket ${i}`, REVOCATION_BOUND_MS));

    const res = await http<Session>(node.url, 'POST', '/auth/password', {
      token: session.token,
      body: { currentPassword: 'password123', newPassword: 'brand-new-password' },
    });
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual(session.user);
    expect(claimsOf(res.body.token)).toMatchObject({ ver: 1 });

    for (const end of await Promise.all(ends)) {
      expect(end.error.code).toBe('token_revoked');
      expect(end.reason).toBe('io server disconnect');
    }
    const old = await http(node.url, 'GET', '/me', { token: session.token });
    expect(old.status).toBe(401);
    expect(errorCode(old)).toBe('token_revoked');
    expect((await connectError(node.url, '/', session.token)).data?.code).toBe('token_revoked');

    // The new token works everywhere; so does the new password, and the old one no longer.
    const fresh = await open('/user', res.body.token);
    expect(await request(fresh, 'whoami')).toEqual({ ok: true, user: session.user });
    await login(node.url, session.user.username, 'brand-new-password');
    const oldPassword = await http(node.url, 'POST', '/auth/login', { body: { username: session.user.username, password: 'password123' } });
    expect(errorCode(oldPassword)).toBe('invalid_credentials');
  });
});

describe('DELETE /me', () => {
  it('401 invalid_credentials with a wrong password; the account stays', async () => {
    const session = await registerUser(node.url);
    const res = await http(node.url, 'DELETE', '/me', { token: session.token, body: { password: 'not-my-password' } });
    expect(res.status).toBe(401);
    expect(errorCode(res)).toBe('invalid_credentials');
    expect((await http(node.url, 'GET', '/me', { token: session.token })).status).toBe(200);
  });

  it('deletes the account, its tokens and its sockets; the name can be registered again', async () => {
    const session = await registerUser(node.url);
    const first = await open('/', session.token);
    const second = await open('/user', session.token);
    const ends = [first, second].map((s, i) => sessionEnd(s, `socket ${i}`, REVOCATION_BOUND_MS));
    const res = await http(node.url, 'DELETE', '/me', { token: session.token, body: { password: 'password123' } });
    expect(res.status).toBe(204);
    for (const end of await Promise.all(ends))
      expect(end).toEqual({ error: expect.objectContaining({ code: 'token_revoked' }), reason: 'io server disconnect' });
    const me = await http(node.url, 'GET', '/me', { token: session.token });
    expect([me.status, errorCode(me)]).toEqual([401, 'token_revoked']);
    const [row] = await node.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE id = $1', [session.user.id]);
    expect(row?.n).toBe(0);
    const again = await registerUser(node.url, session.user.username);
    expect(again.user.id).not.toBe(session.user.id);
  });
});

describe('a live socket follows its token', () => {
  /**
   * A connection with a socket on '/' and one on '/notifications' (one Manager), connected with
   * a token valid for an hour: no time pressure while connecting, however loaded the machine.
   */
  async function twoNamespaces(user: Session['user']): Promise<ClientSocket[]> {
    const token = tokenFor(user, { expiresInSec: 3600 });
    const manager = new Manager(node.url, { transports: ['websocket'], reconnection: false, autoConnect: false });
    const pair = [manager.socket('/', { auth: { token } }), manager.socket('/notifications', { auth: { token } })];
    sockets.push(...pair);
    const connected = pair.map((s) => within('connect', new Promise<void>((resolve) => s.once('connect', () => resolve()))));
    for (const s of pair) s.connect();
    await Promise.all(connected);
    return pair;
  }

  /** A token of `user` expiring in `seconds`, handed to `socket` with 'refreshToken'. */
  async function expireIn(socket: ClientSocket, user: Session['user'], seconds: number): Promise<void> {
    const token = tokenFor(user, { expiresInSec: seconds });
    expect(await request(socket, 'refreshToken', { token })).toEqual({
      ok: true,
      expiresAt: new Date((claimsOf(token).exp as number) * 1000).toISOString(),
    });
  }

  it("at exp it gets 'error' token_expired and is disconnected, on every namespace of the connection", async () => {
    const { user } = await registerUser(node.url);
    const [main, notifications] = await twoNamespaces(user);
    const ends = [main!, notifications!].map((s, i) => sessionEnd(s, `namespace ${i}`, 10_000));
    // Refreshed on '/' only: the expiry moves for the whole connection.
    await expireIn(main!, user, 3);
    for (const end of await Promise.all(ends)) {
      expect(end.error.code).toBe('token_expired');
      expect(end.reason).toBe('io server disconnect');
    }
  });

  it("'refreshToken' with a fresh token keeps the whole connection past the old exp", async () => {
    const { user } = await registerUser(node.url);
    const [main, notifications] = await twoNamespaces(user);
    const errors: unknown[] = [];
    for (const s of [main!, notifications!]) s.on('error', (e: unknown) => errors.push(e));
    await expireIn(main!, user, 3);
    await expireIn(main!, user, 3600);

    // A witness whose token expires a second after the short one: when it is cut off, the
    // short token has expired too, and the refreshed connection must still be up.
    const witness = await open('/', tokenFor(user, { expiresInSec: 3600 }));
    const witnessEnd = sessionEnd(witness, 'the witness', 10_000);
    await expireIn(witness, user, 4);
    expect((await witnessEnd).error.code).toBe('token_expired');
    expect([main!.connected, notifications!.connected]).toEqual([true, true]);
    expect(errors).toEqual([]);
    expect(await request(main!, 'join', { room: 'after_refresh' })).toMatchObject({ ok: true });
  });

  it("'refreshToken' refuses another user's, an expired, a revoked or a malformed token, and the session is unchanged", async () => {
    const session = await registerUser(node.url);
    const other = await registerUser(node.url);
    const socket = await open('/', session.token);
    const cases: [unknown, string][] = [
      [{ token: other.token }, 'forbidden'],
      [{ token: tokenFor(session.user, { expiresInSec: -10 }) }, 'token_expired'],
      [{ token: tokenFor(session.user, { claims: { ver: 7 } }) }, 'token_revoked'],
      [{ token: 'not.a.token' }, 'unauthorized'],
      [{ token: 42 }, 'invalid_payload'],
      ['just a string', 'invalid_payload'],
    ];
    for (const [payload, code] of cases) {
      const ack = await request<{ ok: boolean; error?: ErrorBody }>(socket, 'refreshToken', payload);
      expect([ack.ok, ack.error?.code]).toEqual([false, code]);
    }
    expect(socket.connected).toBe(true);
  });

  it("'refreshToken' is rate limited like the room events (each one is a database look-up), on every namespace", async () => {
    const session = await registerUser(node.url);
    for (const namespace of ['/', '/notifications']) {
      const socket = await open(namespace, session.token);
      const acks = await Promise.all(
        Array.from({ length: REFRESH_BURST + 1 }, () =>
          request<{ ok: boolean; error?: ErrorBody }>(socket, 'refreshToken', { token: session.token }),
        ),
      );
      expect(acks.filter((a) => a.ok)).toHaveLength(REFRESH_BURST);
      expect(acks.filter((a) => !a.ok).map((a) => a.error?.code)).toEqual(['rate_limited']);
      expect(socket.connected).toBe(true);
    }
  });
});
