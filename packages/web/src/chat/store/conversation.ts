import { signal } from '@preact/signals';
import type { PrivateMessage } from '@parley/protocol';
import { ReadCursor } from './read-cursor.ts';

/** A private message as the app keeps it (the ones this tab sends have no position). */
export type DirectMessage = Pick<PrivateMessage, 'id' | 'from' | 'fromUsername' | 'to' | 'message' | 'timestamp'> &
  Partial<Pick<PrivateMessage, 'position'>>;

/** A conversation with one user: both directions, by id. */
export class ConversationState {
  readonly messages = signal<DirectMessage[]>([]);
  readonly cursor: ReadCursor;
  readonly hasOlder = signal(true);
  readonly loadingOlder = signal(false);
  historyLoaded = false;

  constructor(
    readonly userId: number,
    /** `user <id>` until the name is known. */
    public username: string,
    /** Tells the server the conversation is read up to a position of the user's private stream. */
    read: (position: number) => Promise<unknown>,
  ) {
    this.cursor = new ReadCursor(read);
  }

  /** Adds what it does not have yet, in id order. */
  add(messages: DirectMessage[]): void {
    const known = new Set(this.messages.value.map((m) => m.id));
    const fresh = messages.filter((m) => !known.has(m.id));
    if (fresh.length > 0) this.messages.value = [...this.messages.value, ...fresh].sort((a, b) => a.id - b.id);
  }

  oldestId(): number | undefined {
    return this.messages.value[0]?.id;
  }

  /** Position, in the user's private stream, of the newest message shown that has one (only this tab's own sends have none). */
  newestPosition(): number | undefined {
    return this.messages.value.findLast((m) => m.position !== undefined)?.position;
  }

  close(): void {
    this.cursor.close();
  }
}
