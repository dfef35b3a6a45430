import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ERRORS, EVENT_NAMES, HTTP_ROUTES, NAMESPACES, type ErrorCode } from '@parley/protocol';
import { connect, http, registerUser, startNodeWithDatabase, type Session, type TestNodeWithDatabase } from '@parley/testkit';

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { description?: string; content?: Record<string, { schema: unknown }> }>;
}
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
}

let node: TestNodeWithDatabase;
let admin: Session;
let doc: OpenApiDocument;
beforeAll(async () => {
  node = await startNodeWithDatabase(inject('postgresUrl'), { ADMIN_USERNAME: 'contract_admin', ADMIN_PASSWORD: 'admin-password' });
  admin = (await http<Session>(node.url, 'POST', '/auth/login', { body: { username: 'contract_admin', password: 'admin-password' } })).body;
  const res = await http<OpenApiDocument>(node.url, 'GET', '/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
});
afterAll(() => node?.close());

/** '/users/:id/follow' -> '/users/{id}/follow' */
const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document at /openapi.json', () => {
  it('is OpenAPI 3.1 and lists exactly the routes of the contract', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    const contract = Object.values(HTTP_ROUTES).map((r) => `${r.method} ${openApiPath(r.path)}`);
    expect(documented.sort()).toEqual(contract.sort());
  });

  it.each(Object.entries(HTTP_ROUTES))(
    'documents %s: operation id, auth, success responses, and its error codes by status',
    (name, route) => {
      const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
      expect(op?.operationId).toBe(name);
      expect(op?.security).toEqual(route.auth ? [{ bearerAuth: [] }] : undefined);
      // Written out here, not derived from the implementation: every route may answer these.
      const common: ErrorCode[] = [
        'internal_error',
        'unavailable',
        'rate_limited',
        ...(route.auth ? (['unauthorized', 'token_expired', 'token_revoked'] as const) : []),
      ];
      const expected = new Map<string, string[]>();
      for (const code of [...route.errors, ...common]) {
        const status = String(ERRORS[code].status);
        if (!(status in route.responses)) expected.set(status, [...(expected.get(status) ?? []), code]);
      }
      const documented = new Map<string, string[]>();
      for (const [status, response] of Object.entries(op?.responses ?? {})) {
        if (status in route.responses) continue;
        documented.set(status, (response.description ?? '').split(', ').sort());
      }
      expect(Object.fromEntries(documented)).toEqual(Object.fromEntries([...expected].map(([s, c]) => [s, c.sort()])));
      for (const status of Object.keys(route.responses)) expect(op?.responses[status]).toBeDefined();
    },
  );

  it('every error code it documents is in the registry', () => {
    const codes = Object.values(HTTP_ROUTES).flatMap((route) =>
      Object.entries(doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()]?.responses ?? {})
        .filter(([status]) => !(status in route.responses))
        .flatMap(([, r]) => (r.description ?? '').split(', ')),
    );
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(Object.keys(ERRORS)).toContain(code);
  });

  it('serves the UI at /docs from the node itself (no external requests)', async () => {
    const res = await fetch(new URL('/docs/', node.url));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
  });
});

describe('routes with auth', () => {
  it('answer 401 before reading the body: malformed, wrong type or too large', async () => {
    const bodies = [
      { raw: 'not json' },
      { raw: 'x', headers: { 'content-type': 'text/plain' } },
      { raw: JSON.stringify({ content: 'x'.repeat(70_000) }) },
    ];
    for (const body of bodies) {
      for (const [method, path] of [
        ['POST', '/posts'],
        ['PUT', '/posts/1'],
        ['POST', '/users/1/follow'],
      ] as const) {
        const res = await http<{ error: { code: string } }>(node.url, method, path, body);
        expect({ method, path, status: res.status, code: res.body.error.code }).toEqual({
          method,
          path,
          status: 401,
          code: 'unauthorized',
        });
      }
    }
  });
});

describe('event map', () => {
  it('has a handler on the server for every inbound event of every namespace, and nothing else', async () => {
    const user = await registerUser(node.url);
    for (const namespace of Object.values(NAMESPACES)) {
      const client = await connect(node.url, namespace, namespace === '/admin' ? admin.token : user.token);
      const server = node.app.io.of(namespace).sockets.get(client.id ?? '');
      const reserved = new Set(['disconnecting', 'disconnect', 'error']);
      const handled = (server?.eventNames() ?? []).map(String).filter((e) => !reserved.has(e));
      expect(handled.sort(), namespace).toEqual([...EVENT_NAMES[namespace].clientToServer].sort());
      client.close();
    }
  });
});
