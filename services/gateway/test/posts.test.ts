import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Post } from '@parley/protocol';
import { connect, createPost as createPostAs, http, nextEvent, registerUser, type Session, type TestBackend } from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';

let node: TestBackend;
let alice: Session;
let bob: Session;
beforeAll(async () => {
  node = await startTestBackend();
  // One after the other: follower lists are ordered by id, and the tests expect alice first.
  alice = await registerUser(node.url);
  bob = await registerUser(node.url);
});
afterAll(async () => {
  await node?.close();
});

const createPost = (author: Session, body: object = { title: 'Hello', content: 'First post' }): Promise<Post> =>
  createPostAs(node.url, author, body);

describe('posts', () => {
  it('creates, reads and lists posts', async () => {
    const post = await createPost(alice);
    expect(post).toMatchObject({ title: 'Hello', content: 'First post', authorId: alice.user.id });
    expect(Date.parse(post.createdAt)).not.toBeNaN();
    const untitled = await createPost(alice, { content: 'no title' });
    expect(untitled.title).toBeNull();

    expect((await http(node.url, 'GET', `/posts/${post.id}`)).body).toEqual(post);
    const page = await http<{ posts: Post[] }>(node.url, 'GET', '/posts?limit=1');
    expect(page.body.posts.map((p) => p.id)).toEqual([untitled.id]);
    const older = await http<{ posts: Post[] }>(node.url, 'GET', `/posts?before=${untitled.id}&limit=1`);
    expect(older.body.posts.map((p) => p.id)).toEqual([post.id]);
  });

  it('rejects bad input and missing auth with stable codes', async () => {
    const cases: [string, string, { token?: string; body?: unknown }, number, string][] = [
      ['POST', '/posts', { body: { content: 'x' } }, 401, 'unauthorized'],
      ['POST', '/posts', { token: 'garbage', body: { content: 'x' } }, 401, 'unauthorized'],
      ['POST', '/posts', { token: alice.token, body: { title: 'only a title' } }, 400, 'invalid_payload'],
      ['POST', '/posts', { token: alice.token, body: { content: '' } }, 400, 'invalid_payload'],
      ['POST', '/posts', { token: alice.token, body: { content: 'x', title: 'x'.repeat(201) } }, 400, 'invalid_payload'],
      ['GET', '/posts/abc', {}, 400, 'invalid_payload'],
      ['GET', '/posts?limit=1000', {}, 400, 'invalid_payload'],
      ['GET', '/posts/999999', {}, 404, 'not_found'],
      ['PUT', '/posts/999999', { token: alice.token, body: { content: 'y' } }, 404, 'not_found'],
      ['DELETE', '/posts/999999', { token: alice.token }, 404, 'not_found'],
    ];
    for (const [method, path, options, status, code] of cases) {
      const res = await http<{ error: { code: string } }>(node.url, method, path, options);
      expect({ method, path, status: res.status, code: res.body.error.code }).toEqual({ method, path, status, code });
    }
  });

  it('lets only the author update or delete (403 for others, 401 without a token)', async () => {
    const post = await createPost(alice);
    for (const [method, body] of [['PUT', { content: 'hijacked' }], ['DELETE', undefined]] as const) {
      const other = await http<{ error: { code: string } }>(node.url, method, `/posts/${post.id}`, { token: bob.token, body });
      expect([other.status, other.body.error.code]).toEqual([403, 'forbidden']);
      const anonymous = await http<{ error: { code: string } }>(node.url, method, `/posts/${post.id}`, { body });
      expect([anonymous.status, anonymous.body.error.code]).toEqual([401, 'unauthorized']);
    }
    const empty = await http<{ error: { code: string } }>(node.url, 'PUT', `/posts/${post.id}`, { token: alice.token, body: {} });
    expect([empty.status, empty.body.error.code]).toEqual([400, 'invalid_payload']);
    expect((await http<Post>(node.url, 'GET', `/posts/${post.id}`)).body.content).toBe('First post');
  });

  it("broadcasts postUpdated and postDeleted to every socket on '/'", async () => {
    const post = await createPost(alice);
    const watcher = await connect(node.url, '/', bob.token);
    try {
      const updated = nextEvent<Post>(watcher, 'postUpdated');
      const put = await http<Post>(node.url, 'PUT', `/posts/${post.id}`, { token: alice.token, body: { content: 'edited', title: null } });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ id: post.id, content: 'edited', title: null });
      expect(await updated).toEqual(put.body);

      const deleted = nextEvent<number>(watcher, 'postDeleted');
      expect((await http(node.url, 'DELETE', `/posts/${post.id}`, { token: alice.token })).status).toBe(204);
      expect(await deleted).toBe(post.id);
      expect((await http(node.url, 'GET', `/posts/${post.id}`)).status).toBe(404);
    } finally {
      watcher.close();
    }
  });
});

describe('follows', () => {
  it('follows, lists followers and following, unfollows (idempotent)', async () => {
    const carol = await registerUser(node.url);
    for (let i = 0; i < 2; i++) {
      expect((await http(node.url, 'POST', `/users/${carol.user.id}/follow`, { token: alice.token })).status).toBe(204);
    }
    expect((await http(node.url, 'POST', `/users/${carol.user.id}/follow`, { token: bob.token })).status).toBe(204);
    const followers = await http<{ users: { id: number }[] }>(node.url, 'GET', `/users/${carol.user.id}/followers`);
    expect(followers.body.users).toEqual([alice.user, bob.user]);
    const page = await http<{ users: { id: number }[] }>(node.url, 'GET', `/users/${carol.user.id}/followers?after=${alice.user.id}`);
    expect(page.body.users).toEqual([bob.user]);
    const following = await http<{ users: unknown[] }>(node.url, 'GET', `/users/${alice.user.id}/following`);
    expect(following.body.users).toContainEqual(carol.user);

    for (let i = 0; i < 2; i++) {
      expect((await http(node.url, 'DELETE', `/users/${carol.user.id}/follow`, { token: alice.token })).status).toBe(204);
    }
    const after = await http<{ users: unknown[] }>(node.url, 'GET', `/users/${carol.user.id}/followers`);
    expect(after.body.users).toEqual([bob.user]);
  });

  it('refuses following yourself, missing users and anonymous callers', async () => {
    const cases: [string, string, string | undefined, number, string][] = [
      ['POST', `/users/${alice.user.id}/follow`, alice.token, 400, 'cannot_follow_self'],
      ['POST', '/users/999999/follow', alice.token, 404, 'not_found'],
      ['DELETE', '/users/999999/follow', alice.token, 404, 'not_found'],
      ['POST', '/users/0/follow', alice.token, 400, 'invalid_payload'],
      ['POST', `/users/${bob.user.id}/follow`, undefined, 401, 'unauthorized'],
      ['GET', '/users/999999/followers', undefined, 404, 'not_found'],
      ['GET', '/users/999999/following', undefined, 404, 'not_found'],
    ];
    for (const [method, path, token, status, code] of cases) {
      const res = await http<{ error: { code: string } }>(node.url, method, path, token ? { token } : {});
      expect({ method, path, status: res.status, code: res.body.error.code }).toEqual({ method, path, status, code });
    }
  });
});
