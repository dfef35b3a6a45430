import type { FastifyBaseLogger } from 'fastify';
import type { Account } from '@parley/db';
import { errorBody, NAMESPACES, ParleyError, type PublicUser } from '@parley/protocol';
import type { Revocation } from '../pubsub/revocations.ts';
import { userRoom, type AnySocket, type MainServer } from './types.ts';

/** What a verified token grants: its account, at the token's version, until `expiresAt` (ms since the epoch). */
export interface TokenSession {
  user: PublicUser;
  tokenVersion: number;
  expiresAt: number;
}

/** Longest delay setTimeout takes; a later expiry is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Live sockets follow their token. Each socket's session ends at its token's `exp`
 * ('error' token_expired, then a server-side disconnect) unless 'refreshToken' moved it, and
 * ends at once when a revocation reaches this node ('error' token_revoked). A refresh applies
 * to every namespace the connection holds for that user: the connection lives or ends as one.
 */
export class SessionTracker {
  /** The sockets of each Engine.IO connection (one per namespace joined). */
  private readonly connections = new WeakMap<object, Set<AnySocket>>();
  private readonly timers = new WeakMap<AnySocket, NodeJS.Timeout>();

  constructor(
    private readonly io: MainServer,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Follow `socket` from its handshake (socket.data holds its session) until it disconnects. */
  follow(socket: AnySocket): void {
    let peers = this.connections.get(socket.conn);
    if (!peers) this.connections.set(socket.conn, (peers = new Set()));
    peers.add(socket);
    this.schedule(socket);
    socket.once('disconnect', () => {
      clearTimeout(this.timers.get(socket));
      peers.delete(socket);
    });
  }

  /**
   * 'refreshToken': `session` (a verified token of the current version) now holds for every
   * socket of this connection that belongs to the same user.
   * @throws ParleyError('forbidden') for another user's token
   */
  refresh(socket: AnySocket, session: TokenSession): void {
    if (session.user.id !== socket.data.user.id) throw new ParleyError('forbidden', "The token is another user's");
    for (const peer of this.connections.get(socket.conn) ?? []) {
      if (peer.data.user.id !== session.user.id) continue;
      peer.data.tokenVersion = session.tokenVersion;
      peer.data.expiresAt = session.expiresAt;
      this.schedule(peer);
    }
  }

  /** A revocation on this node: end the sessions of the user's sockets below its version (every one when null). */
  revoke({ userId, version }: Revocation): void {
    let ended = 0;
    for (const socket of this.socketsOf(userId)) {
      if (version !== null && socket.data.tokenVersion >= version) continue;
      this.end(socket, 'token_revoked');
      ended++;
    }
    if (ended > 0) this.log.info({ userId, version, sockets: ended }, 'sessions revoked');
  }

  /**
   * Check every local socket against its account (after this node may have missed
   * revocations: Redis was unreachable), ending those whose token was revoked.
   */
  async revalidate(lookup: (userId: number) => Promise<Account | null>): Promise<void> {
    const userIds = new Set<number>();
    for (const nsp of this.namespaces()) for (const socket of nsp.sockets.values()) userIds.add(socket.data.user.id);
    await Promise.all(
      [...userIds].map(async (userId) => {
        const account = await lookup(userId);
        this.revoke({ userId, version: account ? account.tokenVersion : null });
      }),
    );
  }

  private namespaces() {
    return Object.values(NAMESPACES).map((name) => this.io.of(name));
  }

  /** The user's sockets on this node, every namespace (each joins the user's room). */
  private socketsOf(userId: number): AnySocket[] {
    const found: AnySocket[] = [];
    for (const nsp of this.namespaces()) {
      for (const id of nsp.adapter.rooms.get(userRoom(userId)) ?? []) {
        const socket = nsp.sockets.get(id);
        if (socket) found.push(socket);
      }
    }
    return found;
  }

  private schedule(socket: AnySocket): void {
    clearTimeout(this.timers.get(socket));
    const delay = Math.min(Math.max(socket.data.expiresAt - Date.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      if (Date.now() >= socket.data.expiresAt) this.end(socket, 'token_expired');
      else this.schedule(socket);
    }, delay);
    timer.unref();
    this.timers.set(socket, timer);
  }

  private end(socket: AnySocket, code: 'token_expired' | 'token_revoked'): void {
    socket.emit('error', errorBody(code));
    socket.disconnect();
  }
}
