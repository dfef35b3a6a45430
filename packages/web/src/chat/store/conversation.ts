import { signal } from '@preact/signals';
import type { PrivateMessage } from '@parley/protocol';

/** A private message as the app keeps it (the ones this tab sends have no position). */
export type DirectMessage = Pick<PrivateMessage, 'id' | 'from' | 'fromUsername' | 'to' | 'message' | 'timestamp'>;

/** A conversation with one user: both directions, by id. */
export class ConversationState {
  readonly messages = signal<DirectMessage[]>([]);
  readonly unread = signal(0);
  readonly hasOlder = signal(true);
  readonly loadingOlder = signal(false);
  historyLoaded = false;

  constructor(
    readonly userId: number,
    /** `user <id>` until the name is known. */
    public username: string,
  ) {}

  /** Adds what it does not have yet, in id order. */
  add(messages: DirectMessage[]): void {
    const known = new Set(this.messages.value.map((m) => m.id));
    const fresh = messages.filter((m) => !known.has(m.id));
    if (fresh.length > 0) this.messages.value = [...this.messages.value, ...fresh].sort((a, b) => a.id - b.id);
  }

  oldestId(): number | undefined {
    return this.messages.value[0]?.id;
  }

  lastId(): number {
    return this.messages.value.at(-1)?.id ?? 0;
  }
}
