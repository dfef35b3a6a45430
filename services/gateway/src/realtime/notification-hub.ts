import type { NotificationDelivery } from '@parley/db';
import type { Notification } from '@parley/protocol';
import { userRoom, type NotificationsNamespace, type NotificationsSocket } from './types.ts';

/** What a socket gets on connect: the newest unread notifications (oldest first) and the unread count. */
export interface Backlog {
  notifications: Notification[];
  unreadCount: number;
}
/**
 * How long after a backlog its recent notifications may still arrive live: a notification
 * committed before the backlog read it can be delivered (fan-out batch, Redis bus) after the
 * backlog is done. Far above the commit-to-delivery lag of a fan-out batch.
 */
const ECHO_WINDOW_MS = 60_000;

/**
 * This node's side of notification delivery on '/notifications'. Live notifications go to
 * the recipient's room `user:<id>`; a socket still receiving its backlog gets them held
 * and sent after the backlog, skipping any the backlog already carried (by id); the live
 * copy of one the backlog carried that arrives after the backlog is done is skipped too.
 * So a client sees its unread notifications oldest first, then live ones, each exactly once.
 */
export class NotificationHub {
  /** Sockets receiving their backlog -> live notifications held for them. */
  private readonly held = new Map<string, Notification[]>();
  /**
   * Sockets whose backlog is done -> ids it sent that were created within ECHO_WINDOW_MS and
   * not yet seen live: their live delivery, when it comes, is skipped (once).
   */
  private readonly echoes = new Map<string, Set<number>>();

  constructor(private readonly nsp: NotificationsNamespace) {}

  /** Emit each notification to this node's sockets of its recipient. */
  deliverLocal(batch: NotificationDelivery[]): void {
    for (const { recipientId, notification } of batch) {
      // Most recipients of a big fan-out are offline: skip them before encoding anything.
      const socketIds = this.nsp.adapter.rooms.get(userRoom(recipientId));
      if (!socketIds) continue;
      // One encoding for the whole room unless one of these sockets is mid-backlog or expects echoes.
      if (!this.needsCare(socketIds)) {
        this.nsp.local.to(userRoom(recipientId)).emit('notification', notification);
        continue;
      }
      for (const socketId of socketIds) {
        const held = this.held.get(socketId);
        if (held) {
          held.push(notification);
          continue;
        }
        const echoes = this.echoes.get(socketId);
        if (echoes?.delete(notification.id)) {
          if (echoes.size === 0) this.echoes.delete(socketId);
          continue;
        }
        this.nsp.sockets.get(socketId)?.emit('notification', notification);
      }
    }
  }

  /**
   * Send `socket` the unread count and its backlog (one bounded query: `load`), oldest first,
   * then what arrived meanwhile. The socket must already be in its user room (so nothing live
   * is missed). Nothing is sent to a socket that went away while the backlog loaded.
   */
  async sendBacklog(socket: NotificationsSocket, load: () => Promise<Backlog>): Promise<number> {
    this.held.set(socket.id, []);
    const sent = new Set<number>();
    const send = (n: Notification) => {
      if (sent.has(n.id)) return;
      sent.add(n.id);
      socket.emit('notification', n);
    };
    const recent = new Set<number>();
    const since = Date.now() - ECHO_WINDOW_MS;
    try {
      const { notifications, unreadCount } = await load();
      if (!socket.connected) return 0;
      socket.emit('unreadCount', { count: unreadCount });
      for (const n of notifications) {
        if (Date.parse(n.timestamp) >= since) recent.add(n.id);
        send(n);
      }
    } finally {
      const held = this.held.get(socket.id) ?? [];
      this.held.delete(socket.id);
      // Those already seen live while held will not come again.
      for (const n of held) recent.delete(n.id);
      held.forEach(send);
      if (recent.size > 0 && socket.connected) this.expectEchoes(socket, recent);
    }
    return sent.size;
  }

  private needsCare(socketIds: Set<string>): boolean {
    if (this.held.size === 0 && this.echoes.size === 0) return false;
    for (const id of socketIds) if (this.held.has(id) || this.echoes.has(id)) return true;
    return false;
  }

  /** Skip the live copies of `ids` that reach `socket` within ECHO_WINDOW_MS. */
  private expectEchoes(socket: NotificationsSocket, ids: Set<number>): void {
    this.echoes.set(socket.id, ids);
    const forget = () => {
      clearTimeout(timer);
      if (this.echoes.get(socket.id) === ids) this.echoes.delete(socket.id);
    };
    const timer = setTimeout(forget, ECHO_WINDOW_MS);
    timer.unref();
    socket.once('disconnect', forget);
  }
}
