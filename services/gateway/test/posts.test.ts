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
    for (const [method, body] of [
      ['PUT', { content: 'hijacked' }],
      ['DELETE', undefined],
    ] as const) {
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
    expect(following.body.users).toEqual([carol.user]);

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

describe('posts: bounds and paging', () => {
  type Err = { error: { code: string } };

  it('content 20000 characters and title 200 are accepted; 20001 and 201 are invalid_payload (create and update)', async () => {
    const longest = await createPost(alice, { title: 't'.repeat(200), content: 'c'.repeat(20_000) });
    expect([longest.title?.length, longest.content.length]).toEqual([200, 20_000]);
    for (const [method, path, body] of [
      ['POST', '/posts', { content: 'c'.repeat(20_001) }],
      ['POST', '/posts', { title: 't'.repeat(201), content: 'x' }],
      ['PUT', `/posts/${longest.id}`, { content: 'c'.repeat(20_001) }],
      ['PUT', `/posts/${longest.id}`, { title: 't'.repeat(201) }],
    ] as const) {
      const res = await http<Err>(node.url, method, path, { token: alice.token, body });
      expect({ method, status: res.status, code: res.body.error.code }).toEqual({ method, status: 400, code: 'invalid_payload' });
    }
    const updated = await http<Post>(node.url, 'PUT', `/posts/${longest.id}`, {
      token: alice.token,
      body: { title: 'u'.repeat(200), content: 'd'.repeat(20_000) },
    });
    expect([updated.status, updated.body.title?.length, updated.body.content.length]).toEqual([200, 200, 20_000]);
  });

  it('GET /posts: the newest 50 by default, exactly limit up to 100, before pages back; limit 0 / 101 refused', async () => {
    // More posts than the largest page, in one statement; they are the newest there are.
    const rows = await node.db.query<{ id: number }>(
      `INSERT INTO posts (author_id, content, updated_at) SELECT $1, 'bulk ' || g, now() FROM generate_series(1, 110) g RETURNING id`,
      [bob.user.id],
    );
    const newest = rows.map((r) => r.id).sort((a, b) => b - a);
    const ids = async (query: string) => {
      const res = await http<{ posts: Post[] }>(node.url, 'GET', `/posts${query}`);
      expect(res.status).toBe(200);
      return res.body.posts.map((p) => p.id);
    };
    expect(await ids('')).toEqual(newest.slice(0, 50));
    expect(await ids('?limit=100')).toEqual(newest.slice(0, 100));
    expect(await ids(`?limit=10&before=${newest[99]}`)).toEqual(newest.slice(100, 110));
    expect(await ids(`?before=${newest[0]}&limit=2`)).toEqual(newest.slice(1, 3));
    for (const query of ['?limit=0', '?limit=101', '?before=0', '?limit=x']) {
      const res = await http<Err>(node.url, 'GET', `/posts${query}`);
      expect({ query, status: res.status, code: res.body.error.code }).toEqual({ query, status: 400, code: 'invalid_payload' });
    }
  });
});

describe('follows: paging', () => {
  it('followers and following: ascending ids after `after`, 50 by default, up to 100', async () => {
    const star = await registerUser(node.url);
    // 60 followers of star, made in the database (registering them would take a minute of scrypt).
    const fans = await node.db.query<{ id: number }>(
      `INSERT INTO users (username, password_hash) SELECT $1 || g, 'x' FROM generate_series(1, 60) g RETURNING id`,
      [`fan_${star.user.id}_`],
    );
    const fanIds = fans.map((f) => f.id).sort((a, b) => a - b);
    await node.db.query('INSERT INTO follows (follower_id, followee_id) SELECT unnest($1::int[]), $2', [fanIds, star.user.id]);
    // The first fan follows star and two more, so `following` has something to page through.
    const others = [alice.user.id, bob.user.id].sort((a, b) => a - b);
    await node.db.query('INSERT INTO follows (follower_id, followee_id) SELECT $1, unnest($2::int[])', [fanIds[0], others]);
    const page = async (path: string) => {
      const res = await http<{ users: { id: number }[] }>(node.url, 'GET', path);
      expect(res.status, path).toBe(200);
      return res.body.users.map((u) => u.id);
    };
    const followers = `/users/${star.user.id}/followers`;
    expect(await page(followers)).toEqual(fanIds.slice(0, 50));
    expect(await page(`${followers}?limit=100`)).toEqual(fanIds);
    expect(await page(`${followers}?after=${fanIds[49]}`)).toEqual(fanIds.slice(50));
    expect(await page(`${followers}?after=${fanIds[9]}&limit=3`)).toEqual(fanIds.slice(10, 13));
    expect(await page(`${followers}?after=${fanIds[59]}`)).toEqual([]);
    const following = `/users/${fanIds[0]}/following`;
    expect(await page(following)).toEqual([...others, star.user.id].sort((a, b) => a - b));
    expect(await page(`${following}?after=${others[0]}&limit=1`)).toEqual([[...others, star.user.id].sort((a, b) => a - b)[1]]);
    for (const query of ['limit=0', 'limit=101', 'after=-1', 'after=x']) {
      for (const path of [followers, following]) {
        const res = await http<{ error: { code: string } }>(node.url, 'GET', `${path}?${query}`);
        expect({ path, query, status: res.status, code: res.body.error.code }).toEqual({
          path,
          query,
          status: 400,
          code: 'invalid_payload',
        });
      }
    }
  });
});
