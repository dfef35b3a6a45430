import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_INT4_ID } from '@parley/protocol';
import { http, registerUser, type TestBackend } from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

// GET /users/:id and GET /users/by-name/:username (extensions): the web app names post authors
// and starts a conversation with a room member (roomUsers carries names only).
let node: TestBackend;
beforeAll(async () => {
  node = await startTestBackend({});
});
afterAll(() => node?.close());

const errorCode = (res: { body: unknown }) => (res.body as { error: { code: string } }).error.code;

describe('user look-ups', () => {
  it('find a user by id and by username: its public fields only', async () => {
    const [asker, other] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    for (const path of [`/users/${other.user.id}`, `/users/by-name/${other.user.username}`]) {
      const res = await http(node.url, 'GET', path, { token: asker.token });
      expect(res, path).toMatchObject({ status: 200, body: { user: other.user } });
      expect(Object.keys((res.body as { user: object }).user).sort()).toEqual(['id', 'role', 'username']);
    }
  });

  it('answer 404 not_found for nobody, 400 for a malformed id, 401 without a token', async () => {
    const asker = await registerUser(node.url);
    for (const path of [
      `/users/${MAX_INT4_ID}`,
      '/users/by-name/nobody-by-that-name',
      `/users/by-name/${'x'.repeat(200)}`,
      '/users/by-name/a%00b',
    ]) {
      const res = await http(node.url, 'GET', path, { token: asker.token });
      expect([res.status, errorCode(res)], path).toEqual([404, 'not_found']);
    }
    const malformed = await http(node.url, 'GET', '/users/abc', { token: asker.token });
    expect([malformed.status, errorCode(malformed)]).toEqual([400, 'invalid_payload']);
    const anonymous = await http(node.url, 'GET', `/users/${asker.user.id}`);
    expect([anonymous.status, errorCode(anonymous)]).toEqual([401, 'unauthorized']);
  });
});
