import { OrderedStream } from './ordered-stream.ts';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  routePath,
  type Ack,
  type AckBody,
  type AckOk,
  type ChatMessage,
  type ClientToServer,
  type ConversationRead,
  type PrivateMessage,
  type ReadState,
  type ReadStateUpdate,
  type RoomRead,
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
   * How long messages behind a gap in a stream's positions wait for the missing one (a
   * broadcast from another node can come a little late) before the client fetches it with
   * 'sync' / 'syncPrivate'. Only messages behind a gap wait. @default 1000
   */
  gapWaitMs?: number;
  /**
   * Gets a newer token before the current one expires. @default POST /auth/refresh on `url`
   * with the current token.
   */
  refreshToken?: (current: string) => Promise<string>;
  /**
   * Position, in the user's private stream, of the last private message the application already
   * has (`privatePosition()` kept from an earlier run): the client delivers everything after it.
   * @default where the stream is when the client first connects (nothing older is delivered)
   */
  privateSincePosition?: number;
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
/** Handshake refusals that pass by themselves: connect again after HANDSHAKE_RETRY_MS, doubling up to the max. */
const TEMPORARY_REFUSALS = new Set(['unavailable', 'internal_error']);
const HANDSHAKE_RETRY_MS = 500;
const HANDSHAKE_RETRY_MAX_MS = 5000;
/** Wait before catching up again when a catch-up failed while the connection stayed up. */
const RESYNC_RETRY_MS = 1000;

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

/**
 * A Parley chat client that survives node failures: it reconnects (through nginx, to any
 * node), rejoins its rooms, fetches what it missed with 'sync' (rooms) and 'syncPrivate'
 * (private messages) from the last position it delivered, and hands each message to
 * `onMessage` / `onPrivateMessage` exactly once, in position order per room (and for private
 * messages), live or caught up (see OrderedStream).
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
  private readonly rooms = new Map<string, OrderedStream<ChatMessage>>();
  private readonly privateStream: OrderedStream<PrivateMessage>;
  private readonly messageListeners: ((m: ChatMessage) => void)[] = [];
  private readonly privateListeners: ((m: PrivateMessage) => void)[] = [];
  private readonly resyncListeners: (() => void)[] = [];
  private readonly readStateListeners: ((update: ReadStateUpdate) => void)[] = [];
  private readonly forgottenListeners: ((room: string) => void)[] = [];
  private readonly pageSize: number;
  private readonly ackTimeoutMs: number;
  private readonly gapWaitMs: number;
  private everConnected = false;
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
  private isReady = false;
  /** Rooms whose first join is in flight (a second `join` waits for it). */
  private readonly joining = new Map<string, Promise<RoomUsers>>();
  /** clientIds of private messages this client is sending (not handed to onPrivateMessage). */
  private readonly sendingPrivate = new Set<string>();

  constructor(options: ParleyClientOptions) {
    this.pageSize = options.syncPageSize ?? 100;
    this.ackTimeoutMs = options.ackTimeoutMs ?? 10_000;
    this.gapWaitMs = options.gapWaitMs ?? 1000;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 30_000;
    this.notReady();
    this.token = options.token;
    this.privateStream = this.stream<PrivateMessage>(
      (m) => {
        // This client's own send, fetched by a catch-up before its ack came back: not handed over.
        if (m.clientId !== undefined && this.sendingPrivate.has(m.clientId)) return;
        for (const listener of this.privateListeners) listener(m);
      },
      () => this.catchUpPrivate(this.privateStream),
    );
    if (options.privateSincePosition !== undefined) this.privateStream.settle(options.privateSincePosition);
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
      if ('id' in m) this.rooms.get(m.room)?.offer(m);
    });
    this.socket.on('privateMessage', (m) => this.privateStream.offer(m));
    this.socket.on('readState', (update) => {
      for (const listener of this.readStateListeners) listener(update);
    });
    this.socket.on('roomForgotten', ({ room }) => {
      for (const listener of this.forgottenListeners) listener(room);
    });
    // A retried send whose first node died before broadcasting it: that stream has the position.
    // Otherwise the server lost broadcasts between nodes (Redis was away): catch up, spread out.
    this.socket.on('resync', (hint) => {
      if (hint.reason === 'retry') {
        if (hint.position === undefined) return;
        (hint.room === undefined ? this.privateStream : this.rooms.get(hint.room))?.expect(hint.position);
        return;
      }
      this.resyncTimer ??= setTimeout(() => {
        this.resyncTimer = undefined;
        // Still connected, still in its rooms: catch up only.
        void this.resync(false, true);
      }, Math.random() * RESYNC_SPREAD_MS);
    });
    this.socket.on('disconnect', () => this.notReady());
    // A handshake the server refused is not retried by socket.io-client. A refusal that passes
    // (a dependency was `unavailable`, the server failed) is: after a pause, growing to a cap.
    // A bad, expired or revoked token is final, like any other refusal.
    let refused = 0;
    this.socket.on('connect', () => (refused = 0));
    this.socket.on('connect_error', (err: Error & { data?: { code?: unknown } }) => {
      if (this.socket.active || this.closed || !TEMPORARY_REFUSALS.has(String(err.data?.code))) return;
      const delay = Math.min(HANDSHAKE_RETRY_MS * 2 ** refused++, HANDSHAKE_RETRY_MAX_MS);
      setTimeout(
        () => {
          if (!this.closed && !this.socket.connected) this.socket.connect();
        },
        delay * (0.5 + Math.random() / 2),
      );
    });
    this.socket.on('connect', () => {
      // The first time: where the private stream starts (unless given). After: rejoin, catch up.
      const again = this.everConnected;
      this.everConnected = true;
      void this.resync(again, again);
    });
    this.scheduleRefresh();
  }

  /** Called with every new token the client got (keep it to reconnect later without logging in). */
  onToken(listener: (token: string) => void): void {
    this.tokenListeners.push(listener);
  }

  /** Resolves once connected and caught up: private messages from then on reach onPrivateMessage (at once when so already). */
  connected(): Promise<void> {
    return this.ready;
  }

  /** Every chat message, live or caught up, once each. */
  onMessage(listener: (message: ChatMessage) => void): void {
    this.messageListeners.push(listener);
  }

  /** Every private message to this user, and those its other devices sent, live or caught up, once each. */
  onPrivateMessage(listener: (message: PrivateMessage) => void): void {
    this.privateListeners.push(listener);
  }

  /**
   * A read cursor of this user was created (a room joined) or moved, by this client or any other
   * device of the user: `room` or `userId` says which, `unread` what follows it.
   */
  onReadState(listener: (update: ReadStateUpdate) => void): void {
    this.readStateListeners.push(listener);
  }

  /** A room left this user's list ('forgetRoom' here or on another device). */
  onRoomForgotten(listener: (room: string) => void): void {
    this.forgottenListeners.push(listener);
  }

  /** Called after a reconnection once every room is rejoined and caught up, private messages too. */
  onResync(listener: () => void): void {
    this.resyncListeners.push(listener);
  }

  /**
   * Join a room (rejoined after every reconnection). Messages from then on are delivered; the
   * first join asks where the room stands ('sync' with limit 0), so what came before is history.
   */
  async join(room: string): Promise<RoomUsers> {
    if (this.rooms.has(room)) return (await this.joining.get(room)) ?? this.joinOnServer(room);
    const stream: OrderedStream<ChatMessage> = this.stream<ChatMessage>(
      (m) => this.deliver(m),
      () => this.catchUpRoom(room, stream),
    );
    this.rooms.set(room, stream);
    const joined = (async () => {
      try {
        const users = await this.joinOnServer(room);
        await this.catchUpRoom(room, stream, 0);
        return users;
      } catch (err) {
        // All or nothing: not followed here, so not left in the room on the server either.
        stream.close();
        if (this.rooms.get(room) === stream) this.rooms.delete(room);
        this.timed().emit('leaveRoom', room, () => undefined);
        throw err;
      } finally {
        this.joining.delete(room);
      }
    })();
    this.joining.set(room, joined);
    return joined;
  }

  async leave(room: string): Promise<void> {
    this.rooms.get(room)?.close();
    this.rooms.delete(room);
    await acked<AckBody<'/', 'leaveRoom'>>((done) => this.timed().emit('leaveRoom', room, done));
  }

  /**
   * Send a chat message; resolves with its id once the server has persisted it (it also comes
   * back through `onMessage`, like everyone else's, in its place). A lost ack is
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
    this.sendingPrivate.add(clientId);
    try {
      const { id, position } = await this.reliably<AckBody<'/', 'privateMessage'>>((done) =>
        this.timed().emit('privateMessage', { to, message, clientId }, done),
      );
      // Its place in this user's private stream: passed over, not delivered.
      this.privateStream.skip(position);
      return id;
    } finally {
      this.sendingPrivate.delete(clientId);
    }
  }

  /**
   * Mark `room` (joined) read up to `position`, e.g. `position(room)`; the server clamps it to the
   * room's last position and never moves a cursor back. Every device of the user hears it through
   * `onReadState`. Resolves with where the cursor is and how many messages of others follow it.
   * Sent once connected with the rooms rejoined, and again after a lost ack (it is idempotent).
   */
  async readRoom(room: string, position: number): Promise<RoomRead> {
    const { readPosition, unread } = await this.reliably<AckBody<'/', 'readRoom'>>((done) =>
      this.timed().emit('readRoom', { room, position }, done),
    );
    return { room, readPosition, unread };
  }

  /**
   * Mark what user `userId` sent this user read up to `position` in this user's private stream
   * (a `PrivateMessage.position`), like `readRoom`.
   */
  async readConversation(userId: number, position: number): Promise<ConversationRead> {
    const { readPosition, unread } = await this.reliably<AckBody<'/', 'readConversation'>>((done) =>
      this.timed().emit('readConversation', { userId, position }, done),
    );
    return { userId, readPosition, unread };
  }

  /** This user's rooms and conversations with their read cursors and unread counts (the same on every device). */
  async readState(): Promise<ReadState> {
    const { rooms, conversations } = await this.reliably<AckBody<'/', 'readState'>>((done) => this.timed().emit('readState', done));
    return { rooms, conversations };
  }

  /**
   * Drop `room` from this user's list (its read cursor); every device hears `onRoomForgotten`. It
   * does not leave the room (see `leave`): a later join, here or on another device, puts it back.
   */
  async forgetRoom(room: string): Promise<void> {
    await this.reliably<AckBody<'/', 'forgetRoom'>>((done) => this.timed().emit('forgetRoom', { room }, done));
  }

  /** Position of the last message delivered in `room` (undefined before the join is answered). */
  position(room: string): number | undefined {
    return this.rooms.get(room)?.position;
  }

  /** Position of the last private message delivered or sent (keep it for `privateSincePosition`). */
  privatePosition(): number | undefined {
    return this.privateStream.position;
  }

  close(): void {
    this.closed = true;
    for (const stream of [...this.rooms.values(), this.privateStream]) stream.close();
    clearTimeout(this.refreshTimer);
    clearTimeout(this.resyncTimer);
    this.socket.close();
  }

  /** A new `ready` promise, unless the current one is still pending (its waiters keep waiting). */
  private notReady(): void {
    if (this.ready !== undefined && !this.isReady) return;
    this.isReady = false;
    this.ready = new Promise((resolve) => {
      this.markReady = () => {
        this.isReady = true;
        resolve();
      };
    });
  }

  /** `acked(send)`, sent again after a lost ack or `unavailable` until `sendTimeoutMs` has passed. */
  private async reliably<T extends object>(send: (done: (err: Error | null, ack: Ack<T>) => void) => void): Promise<AckOk<T>> {
    const deadline = Date.now() + this.sendTimeoutMs;
    for (;;) {
      // Each attempt waits until the client is connected with its rooms rejoined: sent while the
      // connection is down, socket.io-client would flush it before the rejoin (`forbidden`).
      const ready = await Promise.race([this.ready.then(() => true), sleep(deadline - Date.now()).then(() => false)]);
      if (!ready) throw new ParleyClientError('unavailable', `Not connected within sendTimeoutMs (${this.sendTimeoutMs} ms)`);
      // Dropped since (this.ready is a new promise then): wait for that one.
      if (!this.socket.connected) continue;
      try {
        return await acked<T>(send);
      } catch (err) {
        const retriable = !(err instanceof ParleyClientError) || err.code === 'unavailable';
        if (!retriable || this.closed || Date.now() >= deadline) throw err;
        // Connected: a pause (a dependency is down). Otherwise the next attempt waits for the reconnection.
        if (err instanceof ParleyClientError) await sleep(Math.min(SEND_RETRY_MS, deadline - Date.now()));
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
    for (const listener of this.messageListeners) listener(message);
  }

  private stream<M extends { position: number }>(deliver: (m: M) => void, onGap: () => Promise<void>): OrderedStream<M> {
    return new OrderedStream<M>({ positionOf: (m) => m.position, deliver, onGap, gapWaitMs: this.gapWaitMs });
  }

  /**
   * Everything in `room` after the last position delivered, page by page ('sync'); `limit` 0
   * only learns where the room stands (the first join). Then the stream settles: positions the
   * server no longer has are passed over.
   */
  /** `stream`'s catch-up; before its first settle (limit 0) only where it stands. */
  private async catchUpRoom(room: string, stream: OrderedStream<ChatMessage>, limit = this.limitFor(stream)): Promise<void> {
    await this.catchUp(stream, (after) =>
      acked<AckBody<'/', 'sync'>>((done) => this.timed().emit('sync', { room, sincePosition: after, limit }, done)),
    );
  }

  private async catchUpPrivate(stream: OrderedStream<PrivateMessage>): Promise<void> {
    const limit = this.limitFor(stream);
    await this.catchUp(stream, (after) =>
      acked<AckBody<'/', 'syncPrivate'>>((done) => this.timed().emit('syncPrivate', { sincePosition: after, limit }, done)),
    );
  }

  private limitFor(stream: { position: number | undefined }): number {
    return stream.position === undefined ? 0 : this.pageSize;
  }

  private async catchUp<M extends { position: number }>(
    stream: OrderedStream<M>,
    page: (after: number) => Promise<{ messages: M[]; hasMore: boolean; position: number }>,
  ): Promise<void> {
    if (!this.socket.connected) return;
    let after = stream.position ?? 0;
    for (;;) {
      const { messages, hasMore, position } = await page(after);
      for (const m of messages) stream.offer(m);
      if (!hasMore) return stream.settle(position);
      // A server that says "more" but sends nothing would make this loop forever.
      if (messages.length === 0) return;
      after = messages.at(-1)?.position ?? after;
    }
  }

  /**
   * Catch up after a (re)connection or a 'resync' hint: rejoin every room when `rejoin` (a room
   * the server now refuses, say a reserved name or the room limit, is dropped), then fetch each
   * room's and the private stream's missed messages (the first time: where the private stream
   * starts). A failure that passes (a timeout, `unavailable`) tries it all again shortly.
   */
  private async resync(rejoin: boolean, notify: boolean): Promise<void> {
    try {
      for (const [room, stream] of this.rooms) {
        if (this.joining.has(room)) continue;
        if (rejoin) {
          try {
            await this.joinOnServer(room);
          } catch (err) {
            if (!(err instanceof ParleyClientError) || err.code === 'unavailable') throw err;
            stream.close();
            this.rooms.delete(room);
            continue;
          }
        }
        await this.catchUpRoom(room, stream);
      }
      await this.catchUpPrivate(this.privateStream);
      this.markReady();
      if (notify) for (const listener of this.resyncListeners) listener();
    } catch {
      // The connection dropped again mid-way: the next 'connect' starts over. Still connected (a
      // dependency answered `unavailable`, an ack timed out): try again shortly.
      if (this.socket.connected && !this.closed) {
        clearTimeout(this.resyncTimer);
        this.resyncTimer = setTimeout(() => {
          this.resyncTimer = undefined;
          void this.resync(rejoin, notify);
        }, RESYNC_RETRY_MS);
      }
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
 * @example
 * const { userId } = await acked<AckBody<'/admin', 'disconnectUser'>>((done) =>
 *   admin.timeout(10_000).emit('disconnectUser', { userId: 7 }, done),
 * );
 */
export function acked<T extends object>(send: (done: (err: Error | null, ack: Ack<T>) => void) => void): Promise<AckOk<T>> {
  return new Promise((resolve, reject) => {
    send((err, ack) => {
      if (err) reject(err);
      else if (!ack.ok) reject(new ParleyClientError(ack.error.code, ack.error.message));
      else resolve(ack);
    });
  });
}
