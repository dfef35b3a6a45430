import { signal } from '@preact/signals';

/**
 * The server hears a read of one room or conversation at most this often (a read spends the
 * user's shared budget): the first at once, the ones after it together, READ_EVERY_MS later.
 */
export const READ_EVERY_MS = 1000;

/** The server's word on a cursor: where it is and how many messages of others follow it. */
export interface ReadAnswer {
  readPosition: number;
  unread: number;
}

/**
 * How far the user has read a room or a conversation, kept in step with the server's cursor
 * (PROTOCOL.md "Read state"): the server's count on connection and with every `readState`
 * event, plus the messages of others arriving live after the cursor.
 */
export class ReadCursor {
  readonly unread = signal(0);
  /** Whether the list shows its newest message (scrolled to the bottom). */
  atBottom = true;
  /** The server's cursor, as last heard. */
  private position = 0;
  /** The furthest position read here (sent, or waiting to be). */
  private wanted = 0;
  private sentAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `send`: tell the server (its answer comes to every device as a `readState` event, this one first). */
  constructor(private readonly send: (position: number) => Promise<unknown>) {}

  /** The server's word (the read state, a `readState` event): a cursor behind the one known is old news. */
  heard({ readPosition, unread }: ReadAnswer): void {
    if (readPosition < this.position) return;
    this.position = readPosition;
    this.unread.value = unread;
  }

  /** A message of someone else's at `position` arrived while not on screen: unread, unless already read (on another device). */
  arrived(position: number): void {
    if (position > this.position) this.unread.value += 1;
  }

  /** Read here up to `position` (undefined: nothing to read): the badge clears now, the server hears it (throttled). */
  read(position: number | undefined): void {
    this.unread.value = 0;
    if (position === undefined || position <= Math.max(this.position, this.wanted)) return;
    this.wanted = position;
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.sentAt + READ_EVERY_MS - Date.now()));
  }

  close(): void {
    clearTimeout(this.timer);
  }

  private flush(): void {
    this.timer = undefined;
    this.sentAt = Date.now();
    // Not read on the server (the connection was away longer than the client waits): the next read sends it again.
    this.send(this.wanted).catch(() => (this.wanted = this.position));
  }
}
