// Parley's HTTP API for the scenarios: register, login, follow, posts.
import http from 'k6/http';

const JSON_HEADERS = { 'Content-Type': 'application/json' };
export const PASSWORD = 'k6-password-123';

/** Request params with the Bearer token (and `headers`): no JSON content type on a request without a body. */
function auth(token, headers) {
  return { headers: Object.assign({ Authorization: `Bearer ${token}` }, headers) };
}

function expect(res, status, what) {
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status} ${res.body}`);
  return res.body ? res.json() : undefined;
}

/** A username unique to this test run (3-32 chars of [A-Za-z0-9_.-]). */
export function uniqueUsername(prefix, i) {
  return `${prefix}_${Date.now().toString(36)}_${i}`;
}

/** POST /auth/register -> {token, user}. */
export function register(baseUrl, username, password = PASSWORD) {
  const res = http.post(`${baseUrl}/auth/register`, JSON.stringify({ username, password }), { headers: JSON_HEADERS });
  return expect(res, 201, `register ${username}`);
}

/** Many registrations in parallel (http.batch), `size` at a time -> [{token, user}]. */
export function registerMany(baseUrl, usernames, size = 50) {
  const sessions = [];
  for (let i = 0; i < usernames.length; i += size) {
    const batch = usernames.slice(i, i + size).map((username) => ({
      method: 'POST',
      url: `${baseUrl}/auth/register`,
      body: JSON.stringify({ username, password: PASSWORD }),
      params: { headers: JSON_HEADERS },
    }));
    http.batch(batch).forEach((res, j) => sessions.push(expect(res, 201, `register ${usernames[i + j]}`)));
  }
  return sessions;
}

/** POST /auth/login -> {token, user}. */
export function login(baseUrl, username, password = PASSWORD) {
  const res = http.post(`${baseUrl}/auth/login`, JSON.stringify({ username, password }), { headers: JSON_HEADERS });
  return expect(res, 200, `login ${username}`);
}

/** POST /users/:id/follow for each follower session, in batches. */
export function followAll(baseUrl, authorId, followers, size = 50) {
  for (let i = 0; i < followers.length; i += size) {
    const batch = followers.slice(i, i + size).map((f) => ({
      method: 'POST',
      url: `${baseUrl}/users/${authorId}/follow`,
      body: null,
      params: auth(f.token),
    }));
    http.batch(batch).forEach((res) => expect(res, 204, 'follow'));
  }
}

/** POST /posts -> the k6 response (its timings are the API latency). */
export function createPost(baseUrl, token, title, content) {
  return http.post(`${baseUrl}/posts`, JSON.stringify({ title, content }), auth(token, JSON_HEADERS));
}
