import { parse } from 'acorn';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, HTTP_ROUTES } from '@parley/protocol';

const K6_DIR = new URL('../../../infra/k6/', import.meta.url).pathname;
const SCENARIOS = ['chat-fanout.js', 'connection-storm.js', 'notification-fanout.js'];
const files = [...readdirSync(join(K6_DIR, 'lib')).map((f) => join('lib', f)), ...readdirSync(K6_DIR).filter((f) => f.endsWith('.js'))];
const source = (file: string) => readFileSync(join(K6_DIR, file), 'utf8');

type Namespace = keyof typeof EVENT_NAMES;

/** `METHOD /path/:param` for every request a k6 script makes with `${baseUrl}/...` or `${BASE_URL}/...`. */
function routesUsed(code: string): string[] {
  const found: string[] = [];
  const normalise = (path: string) => path.replace(/\$\{[^}]+\}/g, ':param');
  for (const m of code.matchAll(/http\.(get|post|put|del|patch)\(\s*`\$\{(?:baseUrl|BASE_URL)\}([^`?]*)/g)) {
    found.push(`${m[1] === 'del' ? 'DELETE' : m[1]!.toUpperCase()} ${normalise(m[2]!)}`);
  }
  for (const m of code.matchAll(/method: '(\w+)',\s*url: `\$\{(?:baseUrl|BASE_URL)\}([^`?]*)/g)) found.push(`${m[1]} ${normalise(m[2]!)}`);
  return found;
}

/** The namespace a scenario connects to, what it emits and which events it handles. */
function eventsUsed(code: string): { namespace: string; emitted: string[]; handled: string[] } {
  const namespace = /connectSocketIO\(\s*\w+,\s*'([^']+)'/.exec(code)?.[1] ?? '';
  const emitted = [...code.matchAll(/\.emit(?:WithAck)?\(\s*'(\w+)'/g)].map((m) => m[1]!);
  const handled: string[] = [];
  const start = code.indexOf('events: {');
  if (start !== -1) {
    let depth = 0;
    let i = start + 'events: '.length;
    let block = '';
    for (; i < code.length; i++) {
      const c = code[i];
      if (c === '{') depth++;
      if (c === '}') depth--;
      block += c;
      if (depth === 0) break;
    }
    // Handlers are methods at the block's first level: `name(args) {`.
    const indent = /\n(\s+)\w+\(/.exec(block)?.[1] ?? '';
    for (const m of block.matchAll(new RegExp(`\\n${indent}(\\w+)\\(`, 'g'))) handled.push(m[1]!);
  }
  return { namespace, emitted, handled };
}

const contractRoutes = new Set(Object.values(HTTP_ROUTES).map((r) => `${r.method} ${r.path.replace(/:\w+/g, ':param')}`));

describe('k6 scripts', () => {
  // k6 0.48's JavaScript engine stops at ES2017 (no object spread, no optional chaining…):
  // parse each file as an ES2017 module, which node --check (ES2024) would let through.
  it.each(files)('%s parses as ES2017, what k6 0.48 runs', (file) => {
    expect(() => parse(source(file), { ecmaVersion: 2017, sourceType: 'module' })).not.toThrow();
  });

  it('uses only HTTP routes of the contract', () => {
    const used = files.flatMap((f) => routesUsed(source(f)));
    expect(used.length).toBeGreaterThan(3);
    for (const route of used) expect(contractRoutes, route).toContain(route);
  });

  it.each(SCENARIOS)('%s uses only events of its namespace, has thresholds and a latency Trend', (file) => {
    const code = source(file);
    const { namespace, emitted, handled } = eventsUsed(code);
    expect(Object.keys(EVENT_NAMES)).toContain(namespace);
    const names = EVENT_NAMES[namespace as Namespace];
    for (const event of emitted) expect(names.clientToServer as readonly string[], `${file} emits ${event}`).toContain(event);
    for (const event of handled) expect(names.serverToClient as readonly string[], `${file} handles ${event}`).toContain(event);
    expect(code).toMatch(/thresholds: \{[\s\S]*p\(|thresholds: \{[\s\S]*max</);
    expect(code).toMatch(/new Trend\('\w+', true\)/);
  });

  it('finds the events the scenarios use', () => {
    const all = SCENARIOS.map((f) => eventsUsed(source(f)));
    // chat-fanout.js emits each twice: with an ack (Parley) and without (PROTOCOL=lesson).
    expect(all.flatMap((u) => u.emitted).sort()).toEqual(['chatMessage', 'chatMessage', 'join', 'join']);
    expect(all.flatMap((u) => u.handled).sort()).toEqual(['message', 'notification']);
  });

  it('the checks catch what is not in the contract', () => {
    expect(routesUsed('http.post(`${baseUrl}/auth/signup`, body)')).toEqual(['POST /auth/signup']);
    expect(contractRoutes).not.toContain('POST /auth/signup');
    const code =
      "connectSocketIO(BASE_URL, '/', t, { connect(c) { c.emit('shout', 1); }, events: {\n      yell(x) {\n        if (x) { f(); }\n      },\n    } });";
    expect(eventsUsed(code)).toEqual({ namespace: '/', emitted: ['shout'], handled: ['yell'] });
  });
});
