import { signal } from '@preact/signals';
import type { ChatMessage, SystemMessage } from '@parley/protocol';
import { ReadCursor } from './read-cursor.ts';

/** One line of a room: a chat message (in position order) or a system message (where it arrived). */
export type TimelineEntry =
  { kind: 'chat'; key: string; message: ChatMessage } | { kind: 'system'; key: string; text: string; timestamp: string };

/** How long a "typing" lasts without being renewed (the sender renews it every TYPING_RENEW_MS). */
const TYPING_TTL_MS = 6000;
let systemSeq = 0;

/** A joined room as the app shows it. */
export class RoomState {
  readonly timeline = signal<TimelineEntry[]>([]);
  readonly members = signal<string[]>([]);
  readonly memberCount = signal(0);
  /** Who is typing now (the user's own other tabs excluded). */
  readonly typing = signal<string[]>([]);
  /** Whether older history may exist (false once a page came back short). */
  readonly hasOlder = signal(true);
  readonly loadingOlder = signal(false);
  historyLoaded = false;
  private readonly typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

  readonly cursor: ReadCursor;

  /** `read`: tells the server the room is read up to a position. */
  constructor(
    readonly name: string,
    read: (position: number) => Promise<unknown>,
  ) {
    this.cursor = new ReadCursor(read);
  }

  /** A live or caught-up message: the client hands them over once each, in position order. */
  addLive(message: ChatMessage): void {
    this.stopTyping(message.username);
    if (this.has(message.id)) return;
    this.timeline.value = [...this.timeline.value, { kind: 'chat', key: `m${message.id}`, message }];
  }

  addSystem(message: SystemMessage): void {
    this.timeline.value = [
      ...this.timeline.value,
      { kind: 'system', key: `s${++systemSeq}`, text: message.text, timestamp: message.timestamp },
    ];
  }

  /** Older messages (oldest first) go before everything shown; ones already shown are skipped. */
  prependHistory(messages: ChatMessage[]): void {
    const older = messages
      .filter((m) => !this.has(m.id))
      .map((message): TimelineEntry => ({ kind: 'chat', key: `m${message.id}`, message }));
    this.timeline.value = [...older, ...this.timeline.value];
  }

  oldestId(): number | undefined {
    for (const entry of this.timeline.value) if (entry.kind === 'chat') return entry.message.id;
    return undefined;
  }

  /** Position of the newest message shown (the timeline is in position order). */
  newestPosition(): number | undefined {
    return this.timeline.value.findLast((e) => e.kind === 'chat')?.message.position;
  }

  setMembers(users: string[], count: number): void {
    this.members.value = users;
    this.memberCount.value = count;
  }

  startTyping(user: string): void {
    clearTimeout(this.typingTimers.get(user));
    this.typingTimers.set(
      user,
      setTimeout(() => this.stopTyping(user), TYPING_TTL_MS),
    );
    if (!this.typing.value.includes(user)) this.typing.value = [...this.typing.value, user];
  }

  stopTyping(user: string): void {
    clearTimeout(this.typingTimers.get(user));
    this.typingTimers.delete(user);
    if (this.typing.value.includes(user)) this.typing.value = this.typing.value.filter((u) => u !== user);
  }

  close(): void {
    this.cursor.close();
    for (const timer of this.typingTimers.values()) clearTimeout(timer);
  }

  private has(id: number): boolean {
    return this.timeline.value.some((e) => e.kind === 'chat' && e.message.id === id);
  }
}
