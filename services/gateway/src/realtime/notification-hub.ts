import type { NotificationDelivery } from '@parley/db';
import type { Notification } from '@parley/protocol';
import { userRoom, type NotificationsNamespace, type NotificationsSocket } from './types.ts';

/** Unread notifications read per query while sending a backlog. */
const BACKLOG_PAGE = 500;

/**
 * This node's side of notification delivery on '/notifications'. Live notifications go to
 * the recipient's room `user:<id>`; a socket still receiving its backlog gets them held
 * and sent after the backlog, skipping any the backlog already carried (by id). So a
 * client sees its unread notifications oldest first, then live ones, each exactly once.
 */
export class NotificationHub {
  /** Sockets receiving their backlog -> live notifications held for them. */
  private readonly held = new Map<string, Notification[]>();

  constructor(private readonly nsp: NotificationsNamespace) {}

  /** Emit each notification to this node's sockets of its recipient. */
  deliverLocal(batch: NotificationDelivery[]): void {
    for (const { recipientId, notification } of batch) {
      // Most recipients of a big fan-out are offline: skip them before encoding anything.
      const socketIds = this.nsp.adapter.rooms.get(userRoom(recipientId));
      if (!socketIds) continue;
      if (this.held.size === 0) {
        this.nsp.local.to(userRoom(recipientId)).emit('notification', notification);
        continue;
      }
      for (const socketId of socketIds) {
        const held = this.held.get(socketId);
        if (held) held.push(notification);
        else this.nsp.sockets.get(socketId)?.emit('notification', notification);
      }
    }
  }

  /**
   * Send `socket` its unread notifications, oldest first, then what arrived meanwhile.
   * The socket must already be in its user room (so nothing live is missed).
   * `load(afterId, limit)` returns unread notifications with id > afterId, oldest first.
   */
  async sendBacklog(socket: NotificationsSocket, load: (afterId: number, limit: number) => Promise<Notification[]>): Promise<number> {
    this.held.set(socket.id, []);
    const sent = new Set<number>();
    const send = (n: Notification) => {
      if (sent.has(n.id)) return;
      sent.add(n.id);
      socket.emit('notification', n);
    };
    try {
      for (let after = 0; ; ) {
        const page = await load(after, BACKLOG_PAGE);
        page.forEach(send);
        const last = page[page.length - 1];
        if (!last || page.length < BACKLOG_PAGE) break;
        after = last.id;
      }
    } finally {
      const held = this.held.get(socket.id) ?? [];
      this.held.delete(socket.id);
      held.forEach(send);
    }
    return sent.size;
  }
}
