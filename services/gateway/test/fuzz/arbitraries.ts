import fc from 'fast-check';
import { z } from 'zod';

/**
 * Generators of hostile payloads, derived from the contract's zod schemas (through zod's own
 * JSON Schema export, the constraints of what the server accepts: lengths, patterns, integer
 * ranges, required keys), so a new event or route is fuzzed without writing anything for it.
 * Every value is either shaped like the schema with adversarial leaves (boundaries, unicode,
 * control characters, huge and negative numbers, prototype-pollution keys) or arbitrary JSON.
 */

/** The part of JSON Schema that zod's export produces for the contract. */
interface JsonSchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'null' | 'object' | 'array';
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

/** Values of the running system that make payloads reach deeper (joined rooms, existing ids). */
export interface Dictionary {
  strings: readonly string[];
  integers: readonly number[];
}

/** How a value travels: socket.io payloads may hold binary (attachments), HTTP JSON may not. */
export type Channel = 'socket' | 'json';

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__'];

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0007\u001b[31m',
  '\u007f',
  '\u0085',
  '\u200b',
  '\u200b\u200d\ufeff',
  '\u202e',
  '\ud800',
  '\udfff\ud800',
  'e\u0301',
  '\u00e9',
  '🦄',
  '👩‍👩‍👧‍👦',
  '\r\n',
  '\t',
  'user:1',
  'node:x',
  'admin:',
  'system:all',
  'AAAAAAAAAAAAAAAAAAAA',
  '../../etc/passwd',
  '%00',
  '%zz',
  '%2F',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
  '${jndi:ldap://x}',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '0x10',
  '9007199254740993',
  'true',
  'null',
  '[]',
  '{}',
  ...PROTOTYPE_KEYS,
];

const NASTY_NUMBERS = [
  0,
  -0,
  -1,
  1,
  0.5,
  -0.5,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  2 ** 53 - 1,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e308,
  -1e308,
  Number.MIN_VALUE,
  Number.EPSILON,
];

/** Arbitrary JSON, bounded, with binary leaves when the channel carries them. */
export function anyJson(channel: Channel): fc.Arbitrary<unknown> {
  const leaves: fc.Arbitrary<unknown>[] = [
    fc.constantFrom<unknown>(...NASTY_STRINGS, ...NASTY_NUMBERS, true, false, null),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  ];
  if (channel === 'socket') leaves.push(fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)));
  const value = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      ...leaves,
      fc.array(tie('value'), { maxLength: 5 }),
      fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...PROTOTYPE_KEYS)), tie('value'), { maxKeys: 5 }),
    ),
  })).value;
  return fc.oneof(
    { weight: 8, arbitrary: value },
    { weight: 1, arbitrary: deepNesting() },
    { weight: 1, arbitrary: pollutedObject(value) },
  );
}

/** Arrays or objects nested thousands deep (recursion limits of parsers and broadcasters). */
function deepNesting(): fc.Arbitrary<unknown> {
  return fc.tuple(fc.integer({ min: 100, max: 1000 }), fc.boolean()).map(([depth, arrays]) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = arrays ? [value] : { a: value };
    return value;
  });
}

/** An object whose own keys are `__proto__`, `constructor`…, as JSON.parse makes them. */
function pollutedObject(value: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.constantFrom(...PROTOTYPE_KEYS), value, fc.option(fc.object({ maxDepth: 1 })))
    .map(([key, inner, base]) => withOwnKey(base ?? {}, key, { polluted: inner, isAdmin: true, role: 'admin' }));
}

function withOwnKey(target: object, key: string, value: unknown): object {
  return Object.defineProperty({ ...target }, key, { value, enumerable: true, writable: true, configurable: true });
}

function stringOf(schema: JsonSchema, dict: Dictionary): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 256;
  const options: fc.Arbitrary<string>[] = [
    fc.string({ minLength: min, maxLength: Math.min(max, 80) }),
    fc.string({ unit: 'grapheme', minLength: min, maxLength: Math.min(max, 40) }),
    fc.string({ unit: fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: Math.min(max, 40) }),
    fc.constantFrom(...NASTY_STRINGS),
    // Boundaries: just inside and just outside each length limit.
    fc
      .tuple(
        fc.constantFrom(...new Set([min, Math.max(0, min - 1), max, max + 1])),
        fc.constantFrom('a', 'é', '🦄', ' ', '\u200b', '\u0000'),
      )
      .map(([n, c]) => c.repeat(n)),
    fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.string({ maxLength: 10 })).map(([a, b]) => a + b),
  ];
  if (dict.strings.length > 0) options.push(fc.constantFrom(...dict.strings).chain((s) => fc.constantFrom(s, ` ${s} `, s.toUpperCase())));
  if (schema.pattern !== undefined) {
    const matching = fc.stringMatching(new RegExp(schema.pattern, 'u'));
    options.push(matching.filter((s) => s.length >= min && s.length <= max));
  }
  return fc.oneof(...options);
}

function numberOf(schema: JsonSchema, dict: Dictionary): fc.Arbitrary<number> {
  const min = schema.minimum ?? (schema.exclusiveMinimum === undefined ? -(2 ** 53 - 1) : schema.exclusiveMinimum + 1);
  const max = schema.maximum ?? (schema.exclusiveMaximum === undefined ? 2 ** 53 - 1 : schema.exclusiveMaximum - 1);
  const inRange =
    schema.type === 'integer'
      ? fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) })
      : fc.double({ min, max, noNaN: true });
  const options: fc.Arbitrary<number>[] = [
    inRange,
    fc.integer({ min: Math.max(min, -1), max: Math.min(max, 50) }),
    fc.constantFrom(...NASTY_NUMBERS, min, min - 1, max, max + 1),
  ];
  if (dict.integers.length > 0) options.push(fc.constantFrom(...dict.integers));
  return fc.oneof(...options);
}

/** Values shaped by `schema`, with adversarial leaves; every level may turn into arbitrary JSON instead. */
function shaped(schema: JsonSchema, dict: Dictionary, channel: Channel): fc.Arbitrary<unknown> {
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((v) => valueOf(v, dict, channel)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      return stringOf(schema, dict);
    case 'integer':
    case 'number':
      return numberOf(schema, dict);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = valueOf(schema.items ?? {}, dict, channel);
      const max = schema.maxItems ?? 10;
      return fc.oneof(
        fc.array(items, { minLength: schema.minItems ?? 0, maxLength: Math.min(max, 10) }),
        // Just past the limits.
        fc.constantFrom(Math.max(0, (schema.minItems ?? 0) - 1), max + 1).chain((n) => fc.array(items, { minLength: n, maxLength: n })),
      );
    }
    case 'object': {
      const properties = schema.properties ?? {};
      const record = fc.record(Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, valueOf(value, dict, channel)])), {
        requiredKeys: schema.required ?? [],
      });
      // Sometimes an extra key: unknown, or one that pollutes prototypes.
      return fc
        .tuple(record, fc.option(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS), fc.string({ maxLength: 8 })), anyJson(channel))))
        .map(([value, extra]) => (extra === null ? value : withOwnKey(value, extra[0], extra[1])));
    }
    default:
      // z.unknown(): anything goes.
      return anyJson(channel);
  }
}

function valueOf(schema: JsonSchema, dict: Dictionary, channel: Channel): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 5, arbitrary: shaped(schema, dict, channel) }, { weight: 1, arbitrary: anyJson(channel) });
}

/** Payloads for `schema` (see the file's comment). */
export function payloadFor(schema: z.ZodType, dict: Dictionary, channel: Channel): fc.Arbitrary<unknown> {
  return valueOf(z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as JsonSchema, dict, channel);
}

/** A value as a URL part: strings as they are, anything else as its JSON; lone surrogates become U+FFFD, as in any UTF-8 URL. */
export function asUrlPart(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  return Buffer.from(text, 'utf8').toString('utf8');
}
