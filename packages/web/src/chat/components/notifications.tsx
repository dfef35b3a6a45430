import { Alert } from './alert.tsx';
import { useEffect, useRef } from 'preact/hooks';
import { describeError } from '../store/chat-store.ts';
import { useStore } from './context.ts';

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

/** The bell: the unread count, and the button that opens the list. */
export function NotificationBell({ open, onToggle }: { open: boolean; onToggle: () => void }) {
  const unread = useStore().notifications.unread.value;
  return (
    <button
      type="button"
      class="bell"
      aria-expanded={open}
      aria-controls="notifications"
      aria-label={`Notifications, ${unread} unread`}
      onClick={onToggle}
    >
      <svg aria-hidden="true" viewBox="0 0 24 24" width="20" height="20" fill="currentColor">
        <path d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22Zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2Z" />
      </svg>
      {unread > 0 && (
        <span class="badge" aria-hidden="true">
          {unread}
        </span>
      )}
    </button>
  );
}

/** The notifications, newest first; each can be marked read, or all at once. Escape closes it. */
export function NotificationsPanel({ onClose }: { onClose: () => void }) {
  const { notifications } = useStore();
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    void notifications.load();
    heading.current?.focus();
  }, [notifications]);
  const act = (action: Promise<void>) =>
    action.catch((err: unknown) => {
      notifications.error.value = describeError(err);
    });

  return (
    <section
      id="notifications"
      class="panel"
      aria-labelledby="notifications-title"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <header class="page-header">
        <h2 id="notifications-title" tabIndex={-1} ref={heading}>
          Notifications
        </h2>
        <button
          type="button"
          class="small"
          onClick={() => void act(notifications.markAllRead())}
          disabled={notifications.unread.value === 0}
        >
          Mark all read
        </button>
        <button type="button" class="small" onClick={onClose}>
          Close
        </button>
      </header>
      <Alert message={notifications.error.value} />
      <ul aria-label="Notifications, newest first">
        {notifications.list.value.map((n) => (
          <li key={n.id} class={n.readAt ? 'notification read' : 'notification unread'}>
            <p>
              {!n.readAt && <span class="visually-hidden">Unread: </span>}
              {n.message}
            </p>
            <time dateTime={n.timestamp}>{when.format(new Date(n.timestamp))}</time>
            {!n.readAt && (
              <button type="button" class="small" onClick={() => void act(notifications.markRead(n.id))}>
                Mark read
              </button>
            )}
          </li>
        ))}
      </ul>
      {notifications.list.value.length === 0 && <p class="hint">Nothing yet. Follow people on the Posts page to hear about their posts.</p>}
    </section>
  );
}
