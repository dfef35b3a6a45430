import { batch, computed, signal } from '@preact/signals';
import { io, type Socket } from 'socket.io-client';
import { acked } from '@parley/client';
import type { AckBody, ClientToServer, RoomList, ServerToClient, Stats } from '@parley/protocol';
import { logOut, type AdminSession } from './session.ts';

type AdminSocket = Socket<ServerToClient<'/admin'>, ClientToServer<'/admin'>>;

/**
 * `connecting` (the first time), `connected`, `reconnecting` (the connection dropped or a
 * handshake failed for a passing reason; socket.io-client, or the console, tries again),
 * `ended` (the server closed it on purpose, e.g. the admin disconnected their own account).
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'ended';

/** How often the figures are fetched again while connected. */
export const POLL_MS = 3000;
/** Rooms on one page of the rooms table. */
export const ROOMS_PAGE = 20;
/** Longest wait for an ack before the request counts as failed. */
const ACK_TIMEOUT_MS = 10_000;
/** Wait before another handshake after one refused for a passing reason (`unavailable`, `rate_limited`). */
const RETRY_MS = 2000;

/** Handshake refusals and live `error` events after which this token is no good: back to the log-in. */
const SESSION_ENDED: Record<string, string> = {
  unauthorized: 'Your session is not valid any more. Log in again.',
  token_expired: 'Your session expired. Log in again.',
  token_revoked: 'Your session was revoked (a password or role change). Log in again.',
  forbidden: 'This account is not an admin any more.',
};

/**
 * The console's link to the cluster: one socket on `/admin` (the admin's token), the figures
 * (`stats`, a page of `listRooms`) fetched on connect and every POLL_MS while connected, and the
 * admin actions (`announce`, `disconnectUser`), each rejecting with the server's error
 * (ParleyClientError: a stable code and a message) or the ack timeout. Made at log-in, closed
 * at log-out.
 */
export class AdminConnection {
  readonly state = signal<ConnectionState>('connecting');
  readonly stats = signal<Stats | null>(null);
  readonly rooms = signal<RoomList | null>(null);
  /** When the figures shown were fetched. */
  readonly updatedAt = signal<Date | null>(null);
  /** Why the last refresh failed; null once one works. */
  readonly refreshError = signal<unknown>(null);
  /** The rooms page shown, as the room each page starts after (undefined: the first one). */
  private readonly pages = signal<(string | undefined)[]>([undefined]);
  readonly pageNumber = computed(() => this.pages.value.length);
  private readonly socket: AdminSocket;
  private timer: ReturnType<typeof setInterval> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<void> | undefined;
  /** A refresh was asked for while one was in flight (with the page it showed): fetch once more after it. */
  private again = false;

  constructor(session: AdminSession) {
    // Same origin: through nginx in a cluster, to whichever node it picks.
    this.socket = io(`${location.origin}/admin`, { auth: { token: session.token } });
    this.socket.on('connect', () => {
      this.state.value = 'connected';
      void this.refresh();
      clearInterval(this.timer);
      // A poll while a fetch is still out (a slow node) is skipped, not queued.
      this.timer = setInterval(() => this.refreshing ?? void this.refresh(), POLL_MS);
    });
    this.socket.on('disconnect', (reason) => {
      clearInterval(this.timer);
      // The server ended it on purpose (socket.io-client does not reconnect then); otherwise it retries.
      this.state.value = reason === 'io server disconnect' ? 'ended' : 'reconnecting';
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      const code = String(err.data?.code);
      if (code in SESSION_ENDED) return logOut(SESSION_ENDED[code]);
      this.state.value = 'reconnecting';
      // A refusal by the server's middleware (it has `data`) is not retried by socket.io-client.
      if (err.data) this.retry = setTimeout(() => this.socket.connect(), RETRY_MS);
    });
    this.socket.on('error', ({ code }) => {
      if (code in SESSION_ENDED) logOut(SESSION_ENDED[code]);
    });
  }

  /** Fetch the figures now: at once, or right after the fetch in flight (one at a time). */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    const run = async () => {
      do {
        this.again = false;
        await this.fetchFigures();
      } while (this.again);
    };
    this.refreshing = run().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  /** Connect again after the server ended the connection. */
  reconnect(): void {
    this.state.value = 'connecting';
    this.socket.connect();
  }

  nextRoomsPage(): void {
    const last = this.rooms.value?.rooms.at(-1)?.room;
    if (last === undefined || !this.rooms.value?.hasMore) return;
    this.pages.value = [...this.pages.value, last];
    void this.refresh();
  }

  previousRoomsPage(): void {
    if (this.pages.value.length === 1) return;
    this.pages.value = this.pages.value.slice(0, -1);
    void this.refresh();
  }

  /** Every socket on '/' of every node gets `announcement` `{text, timestamp}`. */
  async announce(text: string): Promise<void> {
    await acked<AckBody<'/admin', 'announce'>>((done) => this.timed().emit('announce', { text }, done));
  }

  /** Every socket of the user, in every namespace and on every node, is disconnected. */
  async disconnectUser(userId: number): Promise<void> {
    await acked<AckBody<'/admin', 'disconnectUser'>>((done) => this.timed().emit('disconnectUser', { userId }, done));
    void this.refresh();
  }

  close(): void {
    clearInterval(this.timer);
    clearTimeout(this.retry);
    this.socket.close();
  }

  private async fetchFigures(): Promise<void> {
    if (!this.socket.connected) return;
    const after = this.pages.value.at(-1);
    try {
      const [stats, rooms] = await Promise.all([
        acked<AckBody<'/admin', 'stats'>>((done) => this.timed().emit('stats', done)),
        acked<AckBody<'/admin', 'listRooms'>>((done) =>
          this.timed().emit('listRooms', { limit: ROOMS_PAGE, ...(after === undefined ? {} : { after }) }, done),
        ),
      ]);
      batch(() => {
        this.stats.value = stats;
        this.rooms.value = rooms;
        this.updatedAt.value = new Date();
        this.refreshError.value = null;
      });
    } catch (err) {
      this.refreshError.value = err;
    }
  }

  /** The socket with the ack timeout: the ack callback gets the timeout error first. */
  private timed() {
    return this.socket.timeout(ACK_TIMEOUT_MS);
  }
}
