import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  routePath,
  type Ack,
  type AckBody,
  type AckOk,
  type ChatMessage,
  type ClientToServer,
  type PrivateMessage,
  type RoomUsers,
  type ServerToClient,
} from '@parley/protocol';

export type ParleySocket = Socket<ServerToClient<'/'>, ClientToServer<'/'>>;

export interface ParleyClientOptions {
  /** Server (or nginx) URL, e.g. 'http://localhost:8080'. */
  url: string;
  token: string;
  /** Passed to socket.io-client (transports, localAddress…). Reconnection is always on. */
  socket?: Partial<ManagerOptions & SocketOptions>;
  /** Messages fetched per 'sync' request while catching up. @default 100 */
  syncPageSize?: number;
  /** How long to wait for an ack. @default 10000 */
  ackTimeoutMs?: number;
  /**
   * How long `send` / `sendPrivate` keep trying: an attempt whose ack was lost (timeout, dropped
   * connection) or answered `unavailable` is sent again with the same clientId, after the next
   * reconnection and resync, until this much time has passed. @default 30000
   */
  sendTimeoutMs?: number;
  /**
   * Ids are assigned when a batch is stored, so across nodes a lower id can be broadcast a
   * little after a higher one (longer on a loaded cluster). 'sync' therefore resumes below
   * every id received in the last `settleMs` before the connection dropped; the duplicates
   * that brings are dropped by id. @default 5000
   */
  settleMs?: number;
  /**
   * Gets a newer token before the current one expires. @default POST /auth/refresh on `url`
   * with the current token.
   */
  refreshToken?: (current: string) => Promise<string>;
  /**
   * Id of the last private message the application already has (kept from an earlier run):
   * a reconnection before any private message arrived catches up from there. @default 0 (the
   * user's whole private history)
   */
  privateSinceId?: number;
}

/** How long before its exp a token is refreshed (half its lifetime for shorter-lived tokens). */
const REFRESH_LEAD_MS = 5 * 60_000;
/** Wait before trying a failed refresh again (while the token still has time left). */
const REFRESH_RETRY_MS = 2000;
/** Pause before sending again after `unavailable` (the connection is up, a dependency is not). */
const SEND_RETRY_MS = 500;
/**
 * A 'resync' hint is followed after a random delay up to this: every client of a cluster gets it
 * at once after a Redis outage, and their catch-up queries are spread instead of arriving
 * together. Hints arriving meanwhile are one catch-up.
 */
const RESYNC_SPREAD_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(ms, 0)));

/** A random id for a message that may be sent again. */
function newClientId(): string {
  return globalThis.crypto.randomUUID();
}

/** `iat` and `exp` of a JWT, in ms (not verified: the server does that). */
function lifetimeOf(token: string): { issuedAt: number; expiresAt: number } | undefined {
  try {
    const claims = JSON.parse(atob((token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return undefined;
    return { issuedAt: claims.iat * 1000, expiresAt: claims.exp * 1000 };
  } catch {
    return undefined;
  }
}

/** The default refresher: `POST /auth/refresh` with the current token. */
function refreshOverHttp(url: string): (current: string) => Promise<string> {
  return async (current) => {
    const res = await fetch(new URL(routePath('refresh'), url), {
      method: 'POST',
      headers: { authorization: `Bearer ${current}` },
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as { token?: string; error?: { code: string; message: string } };
    if (!res.ok || !body.token)
      throw new ParleyClientError(body.error?.code ?? 'internal_error', body.error?.message ?? `HTTP ${res.status}`);
    return body.token;
  };
}

/** Raised when the server answers an ack with `{ ok: false, error }`. */
export class ParleyClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ParleyClientError';
  }
}

/** Ids remembered per stream to drop a message that arrives both live and from a catch-up. */
const SEEN_WINDOW = 5000;

/** A stream of messages the client catches up on: one per room, and the user's private messages. */
interface StreamState {
  /** Highest message id seen in the stream (live or synced). */
  lastId: number;
  /** The most recent ids delivered. */
  seen: Set<number>;
  /** When recent ids arrived (oldest first), to pick where 'sync' resumes. */
  recent: { at: number; id: number }[];
}

function newStream(): StreamState {
  return { lastId: 0, seen: new Set(), recent: [] };
}

/**
 * A Parley chat client that survives node failures: it reconnects (through nginx, to any
 * node), rejoins its rooms, fetches what it missed with 'sync' (rooms) and 'syncPrivate'
 * (private messages) from the last message id it saw, and hands each message to `onMessage` /
 * `onPrivateMessage` exactly once, in id order per catch-up.
 *
 * @example
 * const client = new ParleyClient({ url: 'http://localhost:8080', token });
 * client.onMessage((m) => console.log(m.username, m.text));
 * await client.connected();
 * await client.join('lobby');
 * await client.send('lobby', 'hello');
 */
export class ParleyClient {
  readonly socket: ParleySocket;
  private readonly rooms = new Map<string, StreamState>();
  private readonly privateStream = newStream();
  private readonly messageListeners: ((m: ChatMessage) => void)[] = [];
  private readonly privateListeners: ((m: PrivateMessage) => void)[] = [];
  private readonly resyncListeners: (() => void)[] = [];
  private readonly pageSize: number;
  private readonly ackTimeoutMs: number;
  private readonly settleMs: number;
  private everConnected = false;
  private disconnectedAt: number | undefined;
  private token: string;
  private readonly refresher: (current: string) => Promise<string>;
  private readonly tokenListeners: ((token: string) => void)[] = [];
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly sendTimeoutMs: number;
  /** Resolved while connected with every room rejoined and synced; a new one after each drop. */
  private ready!: Promise<void>;
  private markReady!: () => void;

  constructor(options: ParleyClientOptions) {
    this.pageSize = options.syncPageSize ?? 100;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.settleMs = options.settleMs ?? 5000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.notReady();
    this.token = options.token;
    this.privateStream.lastId = options.privateSinceId ?? 0;
    this.refresher = options.refreshToken ?? refreshOverHttp(options.url);
    this.socket = io(options.url, {
      // A function: every (re)connection presents the newest token.
      auth: (cb) => cb({ token: this.token }),
      reconnectionDelay: 250,
      reconnectionDelayMax: 2000,
      ...options.socket,
      reconnection: true,
    });
    this.socket.on('message', (m) => {
      if ('id' in m) this.deliver(m);
    });
    this.socket.on('privateMessage', (m) => this.deliverPrivate(m));
    // The server lost broadcasts between nodes (Redis was away): catch up, spread out.
    this.socket.on('resync', () => {
      this.resyncTimer ??= setTimeout(() => {
        this.resyncTimer = undefined;
        // Still connected, still in its rooms: catch up only.
        void this.resync(false);
      }, Math.random() * RESYNC_SPREAD_MS);
    });
    this.socket.on('disconnect', () => {
      this.disconnectedAt = Date.now();
      this.notReady();
    });
    this.socket.on('connect', () => {
      if (this.everConnected) void this.resync();
      else this.markReady();
      this.everConnected = true;
    });
    this.scheduleRefresh();
  }

  /** Called with every new token the client got (keep it to reconnect later without logging in). */
  onToken(listener: (token: string) => void): void {
    this.tokenListeners.push(listener);
  }

  /** Resolves once connected (at once when already connected). */
  connected(): Promise<void> {
    if (this.socket.connected) return Promise.resolve();
    return new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }

  /** Every chat message, live or caught up, once each. */
  onMessage(listener: (message: ChatMessage) => void): void {
    this.messageListeners.push(listener);
  }

  /** Every private message to this user, and those its other devices sent, live or caught up, once each. */
  onPrivateMessage(listener: (message: PrivateMessage) => void): void {
    this.privateListeners.push(listener);
  }

  /** Called after a reconnection once every room is rejoined and caught up, private messages too. */
  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  /** Join a room (rejoined after every reconnection). */
  async join(room: string): Promise<RoomUsers> {
    if (!this.rooms.has(room)) this.rooms.set(room, newStream());
    return this.joinOnServer(room);
  }

  async leave(room: string): Promise<void> {
    this.rooms.delete(room);
    await acked<AckBody<'/', 'leaveRoom'>>((done) => this.timed().emit('leaveRoom', room, done));
  }

  /**
   * Send a chat message; resolves with its id once the server has persisted it. A lost ack is
   * retried with the same clientId (see `sendTimeoutMs`): stored and delivered once either way.
   * Rejects with a ParleyClientError for a refusal (not retried), or the last error at the deadline.
   */
  async send(room: string, text: string): Promise<number> {
    const clientId = newClientId();
    const { id } = await this.reliably<AckBody<'/', 'chatMessage'>>((done) =>
      this.timed().emit('chatMessage', { room, text, clientId }, done),
    );
    return id;
  }

  /** Send a private message, like `send`; resolves with its id (it is not handed to onPrivateMessage). */
  async sendPrivate(to: number, message: string): Promise<number> {
    const clientId = newClientId();
    const { id } = await this.reliably<AckBody<'/', 'privateMessage'>>((done) =>
      this.timed().emit('privateMessage', { to, message, clientId }, done),
    );
    this.accept(this.privateStream, id);
    return id;
  }

  /** Highest message id seen in `room`. */
  lastSeen(room: string): number {
    return this.rooms.get(room)?.lastId ?? 0;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.resyncTimer);
    this.socket.close();
  }

  private notReady(): void {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  /** `acked(send)`, sent again after a lost ack or `unavailable` until `sendTimeoutMs` has passed. */
  private async reliably<T extends object>(send: (done: (err: Error | null, ack: Ack<T>) => void) => void): Promise<AckOk<T>> {
    const deadline = Date.now() + this.sendTimeoutMs;
    for (;;) {
      try {
        return await acked<T>(send);
      } catch (err) {
        const retriable = !(err instanceof ParleyClientError) || err.code === 'unavailable';
        if (!retriable || this.closed || Date.now() >= deadline) throw err;
        // Connected: a pause (a dependency is down). Otherwise: the next reconnection, rooms rejoined.
        await Promise.race([
          Promise.all([this.ready, sleep(err instanceof ParleyClientError ? SEND_RETRY_MS : 0)]),
          sleep(deadline - Date.now()),
        ]);
      }
    }
  }

  /** Refresh REFRESH_LEAD_MS before exp, or half-way (tokens without iat/exp are left alone). */
  private scheduleRefresh(retry = false): void {
    const lifetime = lifetimeOf(this.token);
    if (!lifetime || this.closed) return;
    const due = lifetime.expiresAt - Math.min(REFRESH_LEAD_MS, (lifetime.expiresAt - lifetime.issuedAt) / 2);
    const delay = retry ? Math.min(REFRESH_RETRY_MS, lifetime.expiresAt - Date.now()) : due - Date.now();
    if (delay < 0 && retry) return;
    this.refreshTimer = setTimeout(() => void this.refresh(), Math.max(delay, 0));
  }

  /**
   * Get a new token and hand it to the live connection ('refreshToken' moves its expiry on
   * every namespace); reconnections present it too. A failed refresh is tried again while the
   * token is valid; a revoked one ends the session on the server side anyway.
   */
  private async refresh(): Promise<void> {
    let next: string;
    try {
      next = await this.refresher(this.token);
    } catch {
      this.scheduleRefresh(true);
      return;
    }
    this.token = next;
    if (this.socket.connected) {
      // Not fatal if this fails (the connection dropped): the next handshake presents the new token.
      await acked<AckBody<'/', 'refreshToken'>>((done) => this.timed().emit('refreshToken', { token: next }, done)).catch(() => undefined);
    }
    for (const listener of this.tokenListeners) listener(next);
    this.scheduleRefresh();
  }

  private deliver(message: ChatMessage): void {
    const state = this.rooms.get(message.room);
    if (!state || !this.accept(state, message.id)) return;
    for (const listener of this.messageListeners) listener(message);
  }

  private deliverPrivate(message: PrivateMessage): void {
    if (!this.accept(this.privateStream, message.id)) return;
    for (const listener of this.privateListeners) listener(message);
  }

  /** Record `id` in `state`; false when it was seen already. */
  private accept(state: StreamState, id: number): boolean {
    if (state.seen.has(id)) return false;
    state.seen.add(id);
    // Sets iterate in insertion order: drop the oldest ids beyond the window.
    for (const old of state.seen) {
      if (state.seen.size <= SEEN_WINDOW) break;
      state.seen.delete(old);
    }
    state.lastId = Math.max(state.lastId, id);
    const now = Date.now();
    state.recent.push({ at: now, id });
    while ((state.recent[0]?.at ?? now) < now - this.settleMs) state.recent.shift();
    return true;
  }

  /** Below every id that arrived in the `settleMs` before the connection dropped. */
  private resumePoint(state: StreamState): number {
    const since = (this.disconnectedAt ?? Date.now()) - this.settleMs;
    let lowest = Infinity;
    for (const r of state.recent) if (r.at >= since && r.id < lowest) lowest = r.id;
    return lowest === Infinity ? state.lastId : lowest - 1;
  }

  /** Rejoin every room (after a reconnection: `rejoin`), catch up on each and on private messages. */
  private async resync(rejoin = true): Promise<void> {
    try {
      for (const [room, state] of this.rooms) {
        if (rejoin) await this.joinOnServer(room);
        let after = this.resumePoint(state);
        for (;;) {
          const page = await acked<AckBody<'/', 'sync'>>((done) =>
            this.timed().emit('sync', { room, sinceId: after, limit: this.pageSize }, done),
          );
          for (const m of page.messages) this.deliver(m);
          after = page.messages.at(-1)?.id ?? after;
          if (!page.hasMore) break;
        }
      }
      let after = this.resumePoint(this.privateStream);
      for (;;) {
        const page = await acked<AckBody<'/', 'syncPrivate'>>((done) =>
          this.timed().emit('syncPrivate', { sinceId: after, limit: this.pageSize }, done),
        );
        for (const m of page.messages) this.deliverPrivate(m);
        after = page.messages.at(-1)?.id ?? after;
        if (!page.hasMore) break;
      }
      this.markReady();
      for (const listener of this.resyncListeners) listener();
    } catch {
      // The connection dropped again mid-way; the next 'connect' starts over.
    }
  }

  private async joinOnServer(room: string): Promise<RoomUsers> {
    const { users, count } = await acked<AckBody<'/', 'join'>>((done) => this.timed().emit('join', { room }, done));
    return { room, users, count };
  }

  /** The socket with the ack timeout: the ack callback gets the timeout error first. */
  private timed() {
    return this.socket.timeout(this.ackTimeoutMs);
  }
}

/**
 * Emit through `send` (which passes `done` as the ack callback of a timed emit, typed by the
 * contract) and resolve with the ack's body; rejects with the timeout error, or with a
 * ParleyClientError for `{ ok: false, error }`.
 */
function acked<T extends object>(send: (done: (err: Error | null, ack: Ack<T>) => void) => void): Promise<AckOk<T>> {
  return new Promise((resolve, reject) => {
    send((err, ack) => {
      if (err) reject(err);
      else if (!ack.ok) reject(new ParleyClientError(ack.error.code, ack.error.message));
      else resolve(ack);
    });
  });
}
