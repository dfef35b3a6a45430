import type { NewNotification, NotificationDelivery } from '@parley/db';
import type { Notification } from '@parley/protocol';

/** Where stored notifications go to reach their users' sockets (this node, or every node). */
export interface NotificationSink {
  deliver(batch: NotificationDelivery[]): Promise<void>;
}

export interface NotificationStore {
  create(recipientId: number, input: NewNotification): Promise<NotificationDelivery>;
}

/**
 * `notifyUser` for routes, jobs and scripts: persist first (so an offline user gets it on
 * connect), then deliver to every socket of the user on every node.
 * @example await notifier.notifyUser(42, { type: 'welcome', message: 'Hi!', data: {} });
 */
export class Notifier {
  constructor(
    private readonly store: NotificationStore,
    private readonly sink: NotificationSink,
  ) {}

  /** @throws ParleyError('not_found') when the user does not exist. */
  async notifyUser(userId: number, notification: NewNotification): Promise<Notification> {
    const delivery = await this.store.create(userId, notification);
    await this.sink.deliver([delivery]);
    return delivery.notification;
  }
}
