import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EVENTS, NAMESPACES, type InboundEvent, type NamespaceName } from '@parley/protocol';
import { connect, follow, login, registerUser, request, within, EVENT_TIMEOUT_MS, type ClientSocket, type Session } from '@parley/testkit';
import { startTestBackend } from '@parley/testkit/vitest';
import { anyJson, payloadFor, type Dictionary } from './arbitraries.ts';
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

// Every inbound event of every namespace of the contract (EVENTS), and raw Socket.IO packets,
// against a real node: see docs/TESTING.md ("The fuzz suite").
let backend: Awaited<ReturnType<typeof startTestBackend>>;
let fuzzer: Session;
let admin: Session;
let markerAuthor: Session;
let watcher: Watcher;
let expected: Expected;
let dict: Dictionary;
/** The fuzzing socket of each namespace ('/admin' as the admin, the others as `fuzzer`). */
const sockets = new Map<NamespaceName, ClientSocket>();
/** Why a fuzzing socket was disconnected, if it was. */
const disconnects: string[] = [];
/** 'error' events the fuzzing sockets got (refusals of payloads sent without an ack). */
const errorEvents: unknown[] = [];
/** Payloads sent, per "<namespace> <event>" and for the raw packets. */
const sent = new Map<string, number>();
const count = (target: string) => sent.set(target, (sent.get(target) ?? 0) + 1);

const sessionFor = (namespace: NamespaceName) => (namespace === NAMESPACES.admin ? admin : fuzzer);

beforeAll(async () => {
  backend = await startTestBackend(FUZZ_ENV);
  admin = await login(backend.url, ADMIN.username, ADMIN.password);
  fuzzer = await registerUser(backend.url);
  markerAuthor = await registerUser(backend.url);
  const watching = await registerUser(backend.url);
  await follow(backend.url, watching, markerAuthor.user.id);
  watcher = await Watcher.connect(backend.url, watching);
  expected = new Expected(fuzzer);
  for (const namespace of Object.keys(EVENTS) as NamespaceName[]) {
    const socket = await connect(backend.url, namespace, sessionFor(namespace).token);
    socket.on('disconnect', (reason) => disconnects.push(`${namespace}: ${reason}`));
    socket.on('error', (body: unknown) => errorEvents.push(body));
    sockets.set(namespace, socket);
  }
  expect(await request(sockets.get('/') as ClientSocket, 'join', { room: FUZZ_ROOM })).toMatchObject({ ok: true });
  dict = {
    strings: [FUZZ_ROOM, fuzzer.user.username, watching.user.username],
    integers: [fuzzer.user.id, watching.user.id, admin.user.id, markerAuthor.user.id],
  };
});
afterAll(async () => {
  for (const socket of sockets.values()) socket.close();
  watcher?.close();
  await backend?.close();
});

/** The users whose sockets observe the fuzz: a disconnectUser naming one would legitimately end the test's own sockets. */
function disconnectsObserver(namespace: NamespaceName, event: string, args: unknown[]): boolean {
  const userId = (args[0] as { userId?: unknown } | null)?.userId;
  return namespace === NAMESPACES.admin && event === 'disconnectUser' && dict.integers.includes(userId as number);
}

/** Record what the watcher may then legitimately receive (see Expected). */
function expectSideEffects(namespace: NamespaceName, event: string, payload: unknown): void {
  const p = payload as Record<string, unknown> | null;
  if (namespace === NAMESPACES.main && event === 'message') expected.messages.add(canonical(payload));
  if (namespace === NAMESPACES.main && event === 'privateMessage' && typeof p?.to === 'number') {
    const texts = expected.privateTo.get(p.to) ?? new Set<string>();
    expected.privateTo.set(p.to, texts.add(canonical(p.message)));
  }
  if (namespace === NAMESPACES.admin && event === 'announce') expected.announcements.add(canonical(p?.text));
}

/**
 * Packets the server rightly answers by closing the connection, which would end the fuzzing
 * socket: more binary attachments than socket.io-parser accepts (10), or more bytes than
 * MAX_HTTP_BUFFER_SIZE (64 KiB; well under it here). The raw-packet test sends the first kind.
 */
const MAX_ATTACHMENTS = 10;
const MAX_PACKET_CHARS = 48 * 1024;
function withinPacketLimits(args: unknown[]): boolean {
  const text = canonical(args);
  return text.length <= MAX_PACKET_CHARS && text.split('"binary"').length - 1 <= MAX_ATTACHMENTS;
}

/** Arguments of one emit: usually the payload, sometimes none or one too many. */
function argumentsFor(definition: InboundEvent): fc.Arbitrary<unknown[]> {
  const payload = definition.payload === null ? anyJson('socket') : payloadFor(definition.payload, dict, 'socket');
  return fc
    .oneof(
      { weight: 8, arbitrary: fc.tuple(payload) },
      { weight: 1, arbitrary: fc.constant<unknown[]>([]) },
      { weight: 1, arbitrary: fc.tuple(payload, anyJson('socket')) },
    )
    .filter(withinPacketLimits);
}

const inboundEvents = Object.entries(EVENTS).flatMap(([namespace, { inbound }]) =>
  Object.entries(inbound as Record<string, InboundEvent>).map(([event, definition]) => ({
    namespace: namespace as NamespaceName,
    event,
    definition,
  })),
);

describe('fuzz: every socket event of the contract', () => {
  it.each(inboundEvents)(
    '$namespace $event',
    async ({ namespace, event, definition }) => {
      const socket = sockets.get(namespace);
      if (!socket) throw new Error(`no fuzzing socket for ${namespace}: connect one in beforeAll`);
      const ackBody = (definition.ack ?? z.object({})).extend({ ok: z.literal(true) });
      await fc.assert(
        fc.asyncProperty(argumentsFor(definition), fc.boolean(), async (args, withAck) => {
          fc.pre(!disconnectsObserver(namespace, event, args));
          expectSideEffects(namespace, event, args[0]);
          count(`${namespace} ${event}`);
          if (!withAck) {
            socket.emit(event, ...args);
            return;
          }
          const answer = (await socket.timeout(2 * EVENT_TIMEOUT_MS).emitWithAck(event, ...args)) as { ok?: unknown; error?: unknown };
          if (answer.ok === true) ackBody.parse(answer);
          else {
            expect(answer.ok).toBe(false);
            expectRefusal(answer.error);
          }
        }),
        fuzzParameters(),
      );
      expect(disconnects).toEqual([]);
      expect(socket.connected).toBe(true);
      await expectNodeHealthy(backend.url, fuzzer);
      await watcher.expectNothingLeaked(backend.url, expected, sockets.get('/') as ClientSocket, markerAuthor);
      // Refusals of the payloads sent without an ack (those still in flight are checked with the next event's).
      for (const body of errorEvents.splice(0)) expectRefusal(body);
    },
    TARGET_TIMEOUT_MS,
  );

  it(
    'raw Socket.IO packets: garbage, unknown namespaces and packet types, truncated JSON, broken binary attachments',
    async () => {
      const eventNames = inboundEvents.map((e) => e.event);
      const frame = fc.oneof(
        fc.string({ maxLength: 60 }),
        fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        fc
          .tuple(
            fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '40', '41', '42', '43', '44', '45', '46', '4x'),
            fc.constantFrom('', '/', '/user,', '/admin,', '/nope,', '/notifications,'),
            fc.option(fc.nat()),
            anyJson('json'),
          )
          .map(([type, namespace, id, data]) => `${type}${namespace}${id ?? ''}${JSON.stringify(data) ?? ''}`),
        fc
          .tuple(fc.constantFrom(...eventNames, 'connect', 'disconnect', 'error', '__proto__'), anyJson('json'))
          .map(([event, data]) => `42/user,${JSON.stringify([event, data])}`),
        // Binary events announcing attachments that never come, or placeholders pointing nowhere.
        fc
          .tuple(
            fc.constantFrom(-1, 0, 1, 3, MAX_ATTACHMENTS + 1),
            fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom('0', '__proto__', null)),
          )
          .map(([attachments, num]) => `45${attachments}-/user,${JSON.stringify(['whoami', { _placeholder: true, num }])}`),
        fc.constant('42/user,["whoami"'),
      );
      const url = `${backend.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
          count('raw');
          // The server may ignore what it cannot use or close that connection; it must do one of the two.
          expect(['answered', 'closed by the server']).toContain(await rawSession(url, fuzzer.token, frames));
        }),
        fuzzParameters(),
      );
      expect(disconnects).toEqual([]);
      await expectNodeHealthy(backend.url, fuzzer);
      await watcher.expectNothingLeaked(backend.url, expected, sockets.get('/') as ClientSocket, markerAuthor);
    },
    TARGET_TIMEOUT_MS,
  );

  it(`covers every inbound event of EVENTS (${RUNS} payloads each) and the raw packets`, () => {
    for (const { namespace, event } of inboundEvents) expect(sent.get(`${namespace} ${event}`), `${namespace} ${event}`).toBe(RUNS);
    expect(sent.get('raw')).toBe(RUNS);
  });
});

/**
 * One raw Engine.IO WebSocket, connected to '/user' with `token`: sends `frames`, then a probe
 * (connect '/user' again and ask 'whoami' with ack id 999999). Resolves 'answered' when the
 * probe is answered, 'closed by the server' when the server closes the connection first.
 */
function rawSession(url: string, token: string, frames: (string | Buffer)[]): Promise<string> {
  const ws = new WebSocket(url);
  const connectUser = `40/user,${JSON.stringify({ token })}`;
  let sentFrames = false;
  const outcome = new Promise<string>((resolve, reject) => {
    ws.on('error', reject);
    ws.on('close', () => resolve('closed by the server'));
    ws.on('message', (data: Buffer, isBinary) => {
      const text = isBinary ? '' : data.toString();
      if (text.startsWith('0{')) ws.send(connectUser);
      else if (text === '2') ws.send('3');
      else if (text.startsWith('40/user,') && !sentFrames) {
        sentFrames = true;
        for (const f of frames) ws.send(f);
        ws.send(connectUser);
        ws.send('42/user,999999["whoami"]');
      } else if (text.startsWith('43/user,999999[')) resolve('answered');
    });
  });
  return within('a raw connection to answer its probe or be closed', outcome, 2 * EVENT_TIMEOUT_MS).finally(() => ws.terminate());
}
