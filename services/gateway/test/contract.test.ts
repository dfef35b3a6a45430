import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ERRORS, EVENT_NAMES, HTTP_ROUTES, NAMESPACES, type ErrorCode } from '@parley/protocol';
import { connect, http, registerUser, startNodeWithDatabase, type Session, type TestNodeWithDatabase } from '@parley/testkit';

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
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

  it.each(Object.entries(HTTP_ROUTES))('documents %s: operation id, auth, success and error responses', (name, route) => {
    const op = doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
    expect(op?.operationId).toBe(name);
    expect(op?.security).toEqual(route.auth ? [{ bearerAuth: [] }] : undefined);
    const statuses = Object.keys(op?.responses ?? {}).map(Number);
    for (const status of Object.keys(route.responses).map(Number)) expect(statuses).toContain(status);
    const codes: ErrorCode[] = [...route.errors, 'internal_error', 'unavailable', ...(route.auth ? (['unauthorized'] as const) : [])];
    for (const code of codes) expect(statuses).toContain(ERRORS[code].status);
  });

  it('documents only error codes of the registry', () => {
    const enums = new Set<string>();
    JSON.stringify(doc, (key, value: unknown) => {
      if (key === 'code' && typeof value === 'object' && value !== null && 'enum' in value) {
        for (const code of (value as { enum: string[] }).enum) enums.add(code);
      }
      return value;
    });
    expect([...enums].sort()).toEqual(Object.keys(ERRORS).sort());
  });

  it('serves the UI at /docs from the node itself (no external requests)', async () => {
    const res = await fetch(new URL('/docs/', node.url));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('swagger-ui');
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
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
