import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';

export interface ListItem {
  key: string;
  /** Absent for a system message. */
  author?: string;
  text: string;
  timestamp: string;
  mine?: boolean;
}

interface Props {
  label: string;
  items: ListItem[];
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  /** Whether the newest message is in view, after every render and when a scroll changes it. */
  onBottom: (atBottom: boolean) => void;
  empty: string;
}

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
/** How close to the bottom (px) counts as "at the bottom": new messages then scroll into view. */
const STICKY_PX = 80;

/**
 * A conversation's messages, oldest at the top. A live region (role="log"): screen readers read
 * new messages as they arrive. Older ones load when the top comes into view, or with the button
 * (keyboard); the view stays where it was when they are added above, and follows new messages
 * while the reader is at the bottom.
 */
export function MessageList({ label, items, hasOlder, loadingOlder, onLoadOlder, onBottom, empty }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const last = useRef({ first: '', count: 0, height: 0, atBottom: true });

  // Before the DOM changes is too late in Preact; remember the geometry after each render instead.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const before = last.current;
    const first = items[0]?.key ?? '';
    if (before.count > 0 && first !== before.first && items.length > before.count) {
      // Older messages were added above: keep the same messages in view.
      el.scrollTop += el.scrollHeight - before.height;
    } else if (before.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    last.current = { first, count: items.length, height: el.scrollHeight, atBottom: isAtBottom(el) };
    onBottom(last.current.atBottom);
  }, [items, onBottom]);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || !hasOlder) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) onLoadOlder();
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [hasOlder, onLoadOlder]);

  return (
    <div
      class="messages"
      ref={scroller}
      onScroll={(e) => {
        const atBottom = isAtBottom(e.currentTarget);
        if (atBottom !== last.current.atBottom) onBottom(atBottom);
        last.current.atBottom = atBottom;
      }}
    >
      <div ref={sentinel} class="older">
        {hasOlder ? (
          <button type="button" class="link" onClick={onLoadOlder} disabled={loadingOlder}>
            {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
          </button>
        ) : (
          items.length > 0 && <p class="hint">Beginning of the conversation</p>
        )}
      </div>
      <div role="log" aria-label={label} aria-live="polite" aria-relevant="additions">
        <ol>
          {items.map((item) =>
            item.author === undefined ? (
              <li key={item.key} class="system">
                {item.text}
              </li>
            ) : (
              <li key={item.key} class={item.mine ? 'message mine' : 'message'}>
                <span class="author">{item.author}</span>
                <time dateTime={item.timestamp} class="time">
                  {time.format(new Date(item.timestamp))}
                </time>
                <p class="text">{item.text}</p>
              </li>
            ),
          )}
        </ol>
      </div>
      {items.length === 0 && !loadingOlder && <p class="hint empty">{empty}</p>}
    </div>
  );
}

function isAtBottom(el: HTMLElement): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight < STICKY_PX;
}
