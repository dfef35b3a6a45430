import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startNodeWithDatabase, type TestNodeWithDatabase } from '@parley/testkit';

// The gateway's side of the web app (plugins/web.ts) over a made-up bundle in WEB_ROOT, and over
// none: what it serves, with which cache headers, and where an API path keeps its JSON 404. The
// real bundle in a real browser: packages/web/test/.
let dir: string;
let node: TestNodeWithDatabase;
let unbuilt: TestNodeWithDatabase;

const CHAT_PAGE = '<!doctype html><title>Parley</title>';
const CONSOLE_PAGE = '<!doctype html><title>Parley console</title>';
const ASSET = 'console.log("chat")';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-web-'));
  const root = join(dir, 'dist');
  await mkdir(join(root, 'assets'), { recursive: true });
  await mkdir(join(root, 'console'));
  await writeFile(join(root, 'index.html'), CHAT_PAGE);
  await writeFile(join(root, 'console', 'index.html'), CONSOLE_PAGE);
  await writeFile(join(root, 'assets', 'chat-Dc0oHrB3.js'), ASSET);
  await writeFile(join(root, '.build-stamp'), '');
  [node, unbuilt] = await Promise.all([
    startNodeWithDatabase(inject('postgresUrl'), { WEB_ROOT: root }),
    startNodeWithDatabase(inject('postgresUrl'), { WEB_ROOT: join(dir, 'never-built') }),
  ]);
});
afterAll(async () => {
  await Promise.all([node?.close(), unbuilt?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const HTML = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

async function get(base: { url: string }, path: string, init: RequestInit = {}) {
  const res = await fetch(new URL(path, base.url), { redirect: 'manual', signal: AbortSignal.timeout(10_000), ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

const errorCode = (text: string) => (JSON.parse(text) as { error: { code: string } }).error.code;

describe('the web app, built', () => {
  it('serves the chat app at / and the console at /console/, both revalidated on every load', async () => {
    for (const [path, page] of [
      ['/', CHAT_PAGE],
      ['/console/', CONSOLE_PAGE],
    ] as const) {
      const res = await get(node, path, { headers: HTML });
      expect(res).toMatchObject({ status: 200, text: page });
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('etag')).toBeTruthy();
    }
    const redirect = await get(node, '/console', { headers: HTML });
    expect([redirect.status, redirect.headers.get('location')]).toEqual([301, '/console/']);
  });

  it('serves hashed assets as immutable for a year', async () => {
    const res = await get(node, '/assets/chat-Dc0oHrB3.js');
    expect(res).toMatchObject({ status: 200, text: ASSET });
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it("answers a browser navigation to another page of the app with the app's page (a reload of /room/lobby)", async () => {
    for (const [path, page] of [
      ['/room/lobby', CHAT_PAGE],
      ['/dm/12?x=1', CHAT_PAGE],
      ['/console/nodes', CONSOLE_PAGE],
    ] as const) {
      const res = await get(node, path, { headers: HTML });
      expect(res, path).toMatchObject({ status: 200, text: page });
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    expect((await get(node, '/room/lobby', { method: 'HEAD', headers: HTML })).status).toBe(200);
  });

  it('keeps the JSON 404 for API paths, non-navigations, other methods, missing assets and hidden files', async () => {
    const cases: [string, RequestInit][] = [
      ['/rooms/lobby', { headers: HTML }],
      ['/users/1/nothing', { headers: HTML }],
      ['/notifications/1/nothing', { headers: HTML }],
      ['/room/lobby', {}],
      ['/room/lobby', { headers: { accept: 'application/json' } }],
      ['/room/lobby', { method: 'POST', headers: HTML }],
      ['/assets/missing-abc.js', {}],
      ['/.build-stamp', {}],
    ];
    for (const [path, init] of cases) {
      const res = await get(node, path, init);
      expect([res.status, errorCode(res.text)], `${init.method ?? 'GET'} ${path}`).toEqual([404, 'not_found']);
    }
  });

  it('never serves a file outside its folder', async () => {
    for (const path of ['/..%2Fpackage.json', '/assets/..%2F..%2Fpackage.json', '/%2e%2e/%2e%2e/package.json']) {
      const res = await get(node, path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toContain('"name"');
    }
  });
});

describe('the web app, not built', () => {
  it('the node starts and its API works; the pages answer 503 web_unavailable saying what to do', async () => {
    expect((await get(unbuilt, '/healthz')).status).toBe(200);
    for (const [path, init] of [
      ['/', {}],
      ['/', { headers: HTML }],
      ['/console/', {}],
      ['/room/lobby', { headers: HTML }],
    ] as const) {
      const res = await get(unbuilt, path, init);
      expect([res.status, errorCode(res.text)], path).toEqual([503, 'web_unavailable']);
      expect(res.text).toContain('pnpm build');
    }
    const api = await get(unbuilt, '/rooms/lobby', { headers: HTML });
    expect([api.status, errorCode(api.text)]).toEqual([404, 'not_found']);
  });
});
