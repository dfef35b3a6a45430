import fc from 'fast-check';
import { expect } from 'vitest';
import { ERRORS, EVENTS, HTTP_ROUTES, NAMESPACES, type NamespaceName } from '@parley/protocol';
import { connect, createPost, http, nextEvent, request, uniqueName, within, type ClientSocket, type Session } from '@parley/testkit';

/**
 * What the two fuzz files share: the size of a run, the seed, the node's settings, the checks
 * of a refusal, and the watcher that proves nothing leaked.
 */

/** Every socket event and HTTP route, plus the raw Socket.IO packets: what one run of the suite spreads its payloads over. */
const TARGETS =
  Object.values(EVENTS).reduce((n, namespace) => n + Object.keys(namespace.inbound).length, 0) + Object.keys(HTTP_ROUTES).length + 1;
/** Payloads per run of the suite, at FUZZ_SCALE=1. */
const MIN_PAYLOADS = 10_000;
/** FUZZ_SCALE multiplies the payloads (FUZZ_SCALE=20: about 200,000). */
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** Payloads per target: the suite as a whole sends at least MIN_PAYLOADS × FUZZ_SCALE. */
export const RUNS = Math.ceil((MIN_PAYLOADS * SCALE) / TARGETS);
/** A test's time limit for one target (generous: the machine is shared and slow). */
export const TARGET_TIMEOUT_MS = 60_000 + RUNS * 20;

/**
 * fast-check's parameters: a fixed seed, so every run of the suite throws the same payloads;
 * a failure prints its seed and path, and FUZZ_SEED (with FUZZ_PATH) replays it. No shrinking
 * (endOnFailure): against a live node, shrinking a large payload took longer than the test may.
 */
export function fuzzParameters(): fc.Parameters<unknown> {
  const path = process.env.FUZZ_PATH;
  return { seed: Number(process.env.FUZZ_SEED ?? 20_261_211), numRuns: RUNS, endOnFailure: true, ...(path ? { path } : {}) };
}

export const ADMIN = { username: 'fuzz_admin', password: 'fuzz-admin-password' };

/**
 * The node under fuzz. Rate limits so generous that payloads reach validation and the handlers
 * (at the defaults, nearly every payload would only get rate_limited); an admin to fuzz '/admin'.
 */
export const FUZZ_ENV = {
  RATE_LIMIT_PER_SEC: '1000000',
  RATE_LIMIT_BURST: '1000000',
  // The per-user budget and the password queue too: payloads must reach validation, and a busy
  // queue's 'unavailable' would read as a finding.
  USER_RATE_LIMIT: '1000000',
  SCRYPT_QUEUE_MAX: '10000',
  ADMIN_USERNAME: ADMIN.username,
  ADMIN_PASSWORD: ADMIN.password,
};

/** A refusal must carry a code of the registry, with that code's HTTP status; a server fault (internal_error, unavailable) is a finding. */
export function expectRefusal(error: unknown, status?: number): void {
  const codes = Object.keys(ERRORS).filter((code) => ERRORS[code as keyof typeof ERRORS].status < 500);
  expect(error).toEqual({ code: expect.toBeOneOf(codes), message: expect.any(String) });
  if (status !== undefined) expect(ERRORS[(error as { code: keyof typeof ERRORS }).code].status).toBe(status);
}

/**
 * One string per JSON value (keys sorted, binary included), to compare what was sent with what
 * arrived. `__proto__` keys are left out: socket.io-parser copies the objects of a packet with
 * attachments by assignment, which drops them (and makes such a value the copy's prototype).
 */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof ArrayBuffer) return { binary: Buffer.from(v).toString('base64') };
    if (ArrayBuffer.isView(v)) return { binary: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
    // Buffer's own toJSON runs before the replacer sees it.
    if (
      typeof v === 'object' &&
      v !== null &&
      (v as { type?: unknown }).type === 'Buffer' &&
      Array.isArray((v as { data?: unknown }).data)
    ) {
      return { binary: Buffer.from((v as { data: number[] }).data).toString('base64') };
    }
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const entries = Object.entries(v).filter(([key]) => key !== '__proto__');
      return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

/**
 * What the contract lets reach a user who joined no room and is not addressed: broadcasts to
 * every socket on '/' ('message' as newMessage / broadcast, postUpdated, postDeleted,
 * announcement) and private messages to that user, each only after the fuzz made the server send
 * it. The fuzz records each here as it sends it (or, for the HTTP ones, as the server confirms it).
 */
export class Expected {
  readonly messages = new Set<string>();
  readonly privateTo = new Map<number, Set<string>>();
  readonly announcements = new Set<string>();
  readonly updatedPosts = new Set<string>();
  readonly deletedPosts = new Set<number>();

  constructor(private readonly sender: Session) {}

  /** The watcher `user` may receive `event` with `payload` on `namespace`. */
  allows(user: Session, namespace: NamespaceName, event: string, payload: unknown): boolean {
    if (namespace !== NAMESPACES.main) return false;
    const p = payload as Record<string, unknown>;
    switch (event) {
      case 'newMessage':
      case 'broadcast':
        return this.messages.has(canonical(payload));
      case 'privateMessage':
        return (
          p.from === this.sender.user.id && p.to === user.user.id && (this.privateTo.get(user.user.id)?.has(canonical(p.message)) ?? false)
        );
      case 'announcement':
        return this.announcements.has(canonical(p.text));
      case 'postUpdated':
        return this.updatedPosts.has(canonical(payload));
      case 'postDeleted':
        return this.deletedPosts.has(payload as number);
      default:
        return false;
    }
  }
}

interface Received {
  namespace: NamespaceName;
  event: string;
  payload: unknown;
}

/**
 * A user who joined no room, on '/' and '/notifications', recording everything it receives. It
 * follows `markerAuthor`, whose posts are the '/notifications' marker.
 */
export class Watcher {
  private received: Received[] = [];
  private waiters: (() => void)[] = [];
  private markers = 0;

  private constructor(
    readonly session: Session,
    private readonly sockets: ClientSocket[],
  ) {}

  static async connect(url: string, session: Session): Promise<Watcher> {
    const watcher = new Watcher(session, []);
    for (const namespace of [NAMESPACES.main, NAMESPACES.notifications]) {
      let greeted: Promise<unknown> = Promise.resolve();
      const socket = await connect(url, namespace, session.token, {}, (s) => {
        // What '/notifications' sends every socket on connect (its unread count): not the fuzz's doing.
        if (namespace === NAMESPACES.notifications) greeted = nextEvent(s, 'unreadCount');
      });
      await greeted;
      socket.onAny((event: string, payload: unknown) => {
        watcher.received.push({ namespace, event, payload });
        for (const wake of watcher.waiters) wake();
      });
      watcher.sockets.push(socket);
    }
    return watcher;
  }

  /**
   * Proves the watcher got nothing it may not get: a marker through each namespace's broadcast
   * path after the fuzz (order holds per connection, so whatever leaked came before it), then
   * every event before the marker must be allowed by `expected`. `sender` emits the '/' marker
   * ('message', seen as 'broadcast'); `markerAuthor` posts the '/notifications' one.
   */
  async expectNothingLeaked(url: string, expected: Expected, sender: ClientSocket, markerAuthor: Session): Promise<void> {
    const marker = { fuzzMarker: ++this.markers };
    expected.messages.add(canonical(marker));
    const mainSeen = this.until('/', (r) => r.event === 'broadcast' && canonical(r.payload) === canonical(marker));
    sender.emit('message', marker);
    const authored = `${markerAuthor.user.username} created a new post`;
    const notificationSeen = this.until(
      '/notifications',
      (r) => r.event === 'notification' && (r.payload as { message?: unknown }).message === authored,
    );
    await createPost(url, markerAuthor, { content: `marker ${this.markers}` });
    await within('the watcher to receive both markers', Promise.all([mainSeen, notificationSeen]));
    const leaked = this.received.filter(
      (r) => !isMarker(r, marker, authored) && !expected.allows(this.session, r.namespace, r.event, r.payload),
    );
    this.received = [];
    expect(leaked, 'events that reached a user who joined no room').toEqual([]);
  }

  private until(namespace: NamespaceName, match: (r: Received) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.received.some((r) => r.namespace === namespace && match(r))) {
          this.waiters = this.waiters.filter((w) => w !== check);
          resolve();
        }
      };
      this.waiters.push(check);
    });
  }

  close(): void {
    for (const s of this.sockets) s.close();
  }
}

function isMarker(r: Received, marker: object, authored: string): boolean {
  if (r.namespace === NAMESPACES.notifications)
    return r.event === 'notification' && (r.payload as { message?: unknown }).message === authored;
  return (r.event === 'broadcast' || r.event === 'newMessage') && canonical(r.payload) === canonical(marker);
}

/** The node still answers: /healthz, and a fresh socket gets an answer. */
export async function expectNodeHealthy(url: string, session: Session): Promise<void> {
  expect((await http(url, 'GET', '/healthz')).status).toBe(200);
  const fresh = await connect(url, NAMESPACES.user, session.token);
  try {
    expect(await request(fresh, 'whoami')).toMatchObject({ ok: true, user: { id: session.user.id } });
  } finally {
    fresh.close();
  }
}

/** A room name for the fuzzing user to be in, so chat payloads reach storage. */
export const FUZZ_ROOM = uniqueName('fuzz');
