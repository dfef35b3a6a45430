import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HTTP_ROUTES, type HttpRoute } from '@parley/protocol';
import { connect, createPost, follow, login, registerUser, EVENT_TIMEOUT_MS, type ClientSocket, type Session } from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';
import { anyJson, asUrlPart, payloadFor, type Dictionary } from './arbitraries.ts';
import {
  ADMIN,
  canonical,
  expectNodeHealthy,
  expectRefusal,
  Expected,
  FUZZ_ENV,
  FUZZ_ROOM,
  fuzzParameters,
  RUNS,
  TARGET_TIMEOUT_MS,
  Watcher,
} from './harness.ts';

// Every HTTP route of the contract (HTTP_ROUTES) against a real node: hostile params, query
// strings, bodies (schema-shaped, arbitrary JSON, not JSON, wrong content types, too large) and
// Authorization headers. See docs/TESTING.md ("The fuzz suite").
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let fuzzer: Session;
let admin: Session;
let markerAuthor: Session;
let watcher: Watcher;
let expected: Expected;
let dict: Dictionary;
/** The fuzzer's socket on '/': it sends the watcher's marker. */
let fuzzerSocket: ClientSocket;
const sent = new Map<string, number>();

beforeAll(async () => {
  backend = await startTestBackend(FUZZ_ENV);
  admin = await login(backend.url, ADMIN.username, ADMIN.password);
  fuzzer = await registerUser(backend.url);
  markerAuthor = await registerUser(backend.url);
  const watching = await registerUser(backend.url);
  await follow(backend.url, watching, markerAuthor.user.id);
  watcher = await Watcher.connect(backend.url, watching);
  expected = new Expected(fuzzer);
  fuzzerSocket = await connect(backend.url, '/', fuzzer.token);
  // Posts of the fuzzer (editable and deletable by it) and of someone else (forbidden).
  const posts = [await createPost(backend.url, fuzzer), await createPost(backend.url, fuzzer), await createPost(backend.url, markerAuthor)];
  dict = {
    strings: [FUZZ_ROOM, fuzzer.user.username, watching.user.username, ADMIN.username],
    integers: [fuzzer.user.id, watching.user.id, admin.user.id, markerAuthor.user.id, ...posts.map((p) => p.id)],
  };
});
afterAll(async () => {
  fuzzerSocket?.close();
  watcher?.close();
  await backend?.close();
});

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/json, text/plain',
  '',
];

interface FuzzRequest {
  path: string;
  query: string;
  body?: string | Uint8Array;
  contentType?: string;
  authorization?: string;
}

/** `:params` filled from the params schema (or anything), percent-encoded, or raw malformed escapes. */
function pathFor(route: HttpRoute): fc.Arbitrary<string> {
  const names = [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1] as string);
  if (names.length === 0) return fc.constant(route.path);
  const values = payloadFor(route.params ?? z.object({}), dict, 'json');
  return fc
    .tuple(values, anyJson('json'), fc.constantFrom<string | undefined>(undefined, '%', '%zz', '%ff%fe', '%C0%AF', '..%2F..'))
    .map(([params, other, raw]) => {
      const record = typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {};
      return route.path.replace(
        /:([A-Za-z]+)/g,
        (_, name: string) => raw ?? encodeURIComponent(asUrlPart(name in record ? record[name] : other)),
      );
    });
}

/** A query string from the querystring schema (arrays as repeated keys), or anything. */
function queryFor(route: HttpRoute): fc.Arbitrary<string> {
  const values = route.querystring ? payloadFor(route.querystring, dict, 'json') : anyJson('json');
  return values.map((query) => {
    if (typeof query !== 'object' || query === null || Array.isArray(query))
      return query === undefined ? '' : encodeURIComponent(asUrlPart(query));
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      for (const v of Array.isArray(value) ? value : [value]) search.append(key, asUrlPart(v));
    }
    return search.toString();
  });
}

/** No body, the schema's (or any) JSON, text that is not JSON, bytes, or too large; with any content type. */
function bodyFor(route: HttpRoute): fc.Arbitrary<Pick<FuzzRequest, 'body' | 'contentType'>> {
  if (route.method === 'GET') return fc.constant({});
  const json = (route.body ? payloadFor(route.body, dict, 'json') : anyJson('json')).map((v) => JSON.stringify(v) ?? 'undefined');
  const body = fc.oneof(
    { weight: 6, arbitrary: json },
    { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('{', '{"content":', '[1,', 'null', '""', '{"__proto__":{"admin":true},"content":"x"}', '\u0000'),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
    { weight: 1, arbitrary: fc.constantFrom(70_000, 1_100_000).map((n) => JSON.stringify({ content: 'x'.repeat(n), title: 'x' })) },
  );
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({}) },
    {
      weight: 9,
      arbitrary: fc
        .tuple(
          body,
          fc.oneof({ weight: 6, arbitrary: fc.constant('application/json') }, { weight: 4, arbitrary: fc.constantFrom(...CONTENT_TYPES) }),
        )
        .map(([b, contentType]) => ({ body: b, contentType })),
    },
  );
}

/** The fuzzer's token mostly; sometimes the admin's, none, or a broken one. */
function authorization(): fc.Arbitrary<string | undefined> {
  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${fuzzer.token}`) },
    { weight: 1, arbitrary: fc.constant(`Bearer ${admin.token}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: printable.map((t) => `Bearer ${t}`) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `Basic ${fuzzer.token}`,
        `Bearer ${fuzzer.token}x`,
        `Bearer ${fuzzer.token.slice(0, -3)}`,
        'Bearer',
        `bearer  ${fuzzer.token}`,
      ),
    },
  );
}

const routes: { name: string; route: HttpRoute }[] = Object.entries(HTTP_ROUTES).map(([name, route]) => ({ name, route }));

describe('fuzz: every HTTP route of the contract', () => {
  it.each(routes)(
    '$route.method $route.path ($name)',
    async ({ name, route }) => {
      const request = fc.record({ path: pathFor(route), query: queryFor(route), body: bodyFor(route), authorization: authorization() });
      await fc.assert(
        fc.asyncProperty(request, async ({ path, query, body, authorization }) => {
          sent.set(name, (sent.get(name) ?? 0) + 1);
          const headers: Record<string, string> = {};
          if (authorization !== undefined) headers.authorization = authorization;
          if (body.contentType) headers['content-type'] = body.contentType;
          const res = await fetch(`${backend.url}${path}${query ? `?${query}` : ''}`, {
            method: route.method,
            headers,
            body: body.body,
            signal: AbortSignal.timeout(2 * EVENT_TIMEOUT_MS),
          });
          const text = await res.text();
          expect(res.status, text.slice(0, 300)).toBeLessThan(500);
          if (res.status >= 400) {
            expectRefusal((JSON.parse(text) as { error?: unknown }).error, res.status);
            return;
          }
          const schema: z.ZodType | null | undefined = route.responses[res.status as keyof HttpRoute['responses']];
          if (schema === undefined) throw new Error(`status ${res.status} is not in the contract of ${name}`);
          const answer: unknown = schema === null ? text : schema.parse(JSON.parse(text));
          if (schema === null) expect(text).toBe('');
          // What the watcher may then get: every socket on '/' hears of edits and deletions.
          if (name === 'updatePost') expected.updatedPosts.add(canonical(answer));
          if (name === 'deletePost') expected.deletedPosts.add(Number(path.split('/').pop()));
        }),
        fuzzParameters(),
      );
      await expectNodeHealthy(backend.url, fuzzer);
      await watcher.expectNothingLeaked(backend.url, expected, fuzzerSocket, markerAuthor);
    },
    TARGET_TIMEOUT_MS,
  );

  it(`covers every route of HTTP_ROUTES (${RUNS} requests each)`, () => {
    for (const { name } of routes) expect(sent.get(name), name).toBe(RUNS);
  });
});
