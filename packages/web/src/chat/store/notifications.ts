import { signal } from '@preact/signals';
import type { Notification } from '@parley/protocol';
import { api } from '../api.ts';

/** Notifications listed in the panel (the newest; GET /notifications pages the rest). */
const PAGE = 50;

/**
 * The bell: the unread count and the newest notifications. The `/notifications` socket sends the
 * count on every (re)connection, then the unread backlog and each new one live; the count is
 * taken again from the server after a change (a notification arrived, one was marked read), so it
 * never drifts.
 */
export class NotificationsState {
  readonly list = signal<Notification[]>([]);
  readonly unread = signal(0);
  readonly error = signal<string | null>(null);
  private counting: Promise<void> | undefined;
  private countAgain = false;

  constructor(private readonly token: () => string) {}

  /** The count the server sends on connect. */
  setUnread(count: number): void {
    this.unread.value = count;
  }

  /** One from the socket (live or the backlog): listed once; the count is asked again. */
  received(notification: Notification): void {
    this.merge([notification]);
    this.refreshCount();
  }

  async load(): Promise<void> {
    try {
      const { notifications, unreadCount } = await api('notifications', { token: this.token(), query: { limit: PAGE } });
      this.list.value = [];
      this.merge(notifications);
      this.unread.value = unreadCount;
      this.error.value = null;
    } catch (err) {
      this.error.value = (err as Error).message;
    }
  }

  async markRead(id: number): Promise<void> {
    await api('readNotification', { token: this.token(), params: { id } });
    const now = new Date().toISOString();
    this.list.value = this.list.value.map((n) => (n.id === id && n.readAt === null ? { ...n, readAt: now } : n));
    this.refreshCount();
  }

  async markAllRead(): Promise<void> {
    await api('readAllNotifications', { token: this.token() });
    const now = new Date().toISOString();
    this.list.value = this.list.value.map((n) => (n.readAt === null ? { ...n, readAt: now } : n));
    this.unread.value = 0;
  }

  private merge(notifications: Notification[]): void {
    const byId = new Map(this.list.value.map((n) => [n.id, n]));
    for (const n of notifications) byId.set(n.id, n);
    this.list.value = [...byId.values()].sort((a, b) => b.id - a.id).slice(0, PAGE);
  }

  /** The unread count from the server; one request at a time, one more if something changed meanwhile. */
  private refreshCount(): void {
    if (this.counting) {
      this.countAgain = true;
      return;
    }
    this.counting = api('notifications', { token: this.token(), query: { unread: 'true', limit: 1 } })
      .then(({ unreadCount }) => {
        this.unread.value = unreadCount;
      })
      .catch(() => undefined)
      .finally(() => {
        this.counting = undefined;
        if (this.countAgain) {
          this.countAgain = false;
          this.refreshCount();
        }
      });
  }
}
