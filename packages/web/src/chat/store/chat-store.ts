import { batch, signal, type Signal } from '@preact/signals';
import { io, type Socket } from 'socket.io-client';
import { ParleyClient, ParleyClientError } from '@parley/client';
import type {
  ChatMessage,
  ClientToServer,
  Notification,
  PrivateMessage,
  ReadState,
  ReadStateUpdate,
  ServerToClient,
} from '@parley/protocol';
import { api, ApiError } from '../api.ts';
import { navigate, route } from '../router.ts';
import { replaceToken, signOut, type Session } from '../session.ts';
import { ConversationState, type DirectMessage } from './conversation.ts';
import { NotificationsState } from './notifications.ts';
import { remember, remembered } from './persist.ts';
import { PostsState } from './posts.ts';
import type { ReadAnswer } from './read-cursor.ts';
import { RoomState } from './room.ts';

/**
 * What the header shows: `connecting` (the first time), `connected` (caught up), `reconnecting`
 * (the connection dropped; socket.io-client tries again), `catching-up` (back, fetching what
 * was missed), `offline` (the browser has no network).
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'catching-up' | 'offline';

/** Handshake refusals that end the session: the token is no good any more. */
const SESSION_ENDED = new Set(['unauthorized', 'token_expired', 'token_revoked']);
/** History fetched per page (the REST routes allow up to 100). */
const HISTORY_PAGE = 50;
/** A typing user sends 'typing' again this often while still typing, and 'stopTyping' after this long idle. */
export const TYPING_RENEW_MS = 2000;
const TYPING_IDLE_MS = 3000;

type NotificationsSocket = Socket<ServerToClient<'/notifications'>, ClientToServer<'/notifications'>>;

/**
 * Everything the signed-in app shows, live: one @parley/client connection (rooms, private
 * messages, catch-up after a reconnect), the `/notifications` namespace on the same connection,
 * and REST for history, posts and notifications. Made at sign-in, closed at sign-out.
 *
 * The rooms, the conversations and their unread counts are the server's (PROTOCOL.md "Read
 * state"), the same on every device of the user: loaded on connection and after each
 * reconnection, kept live by `readState` / `roomForgotten` events, and read here by what the tab
 * shows (visible, scrolled to the newest message).
 */
export class ChatStore {
  readonly connection = signal<ConnectionState>('connecting');
  readonly rooms = signal<RoomState[]>([]);
  readonly conversations = signal<ConversationState[]>([]);
  readonly announcement = signal<string | null>(null);
  readonly notifications: NotificationsState;
  readonly posts: PostsState;
  /** Names of users by id, as they become known (post authors, conversation partners). */
  readonly names = signal<ReadonlyMap<number, string>>(new Map());
  private readonly client: ParleyClient;
  private readonly notificationSocket: NotificationsSocket;
  private readonly nameRequests = new Map<number, Promise<string>>();
  private readonly typingState = new Map<string, { sentAt: number; idle?: ReturnType<typeof setTimeout> }>();
  private readonly disposers: (() => void)[] = [];
  /** Rooms whose join is in flight. */
  private readonly joining = new Map<string, RoomState>();

  constructor(private readonly session: Session) {
    const token = () => this.session.token;
    this.notifications = new NotificationsState(token);
    this.posts = new PostsState(token, this.me.id);
    this.client = new ParleyClient({
      url: location.origin,
      token: session.token,
      privateSincePosition: remembered<number | undefined>(this.me.id, 'privatePosition', undefined),
    });
    this.client.onToken((next) => {
      this.session.token = next;
      replaceToken(next);
    });
    this.client.onMessage((m) => this.onChatMessage(m));
    this.client.onPrivateMessage((m) => this.onPrivateMessage(m));
    this.client.onResync(() => {
      this.markConnected();
      // What changed while away (reads and joins on other devices).
      void this.loadReadState();
    });
    this.client.onReadState((update) => this.onReadState(update));
    this.client.onRoomForgotten((name) => this.forgotten(name));
    this.watchConnection(this.client.socket);
    const socket = this.client.socket;
    socket.on('message', (m) => {
      // Chat messages come through the client (ordered, once each). System ones only while
      // connected: a rejoin after a reconnection (or a reload) would welcome the user again.
      if (!('id' in m) && this.connection.value === 'connected') this.room(m.room)?.addSystem(m);
    });
    socket.on('roomUsers', ({ room, users, count }) => this.room(room)?.setMembers(users, count));
    socket.on('typing', ({ user, room }) => user !== this.me.username && this.room(room)?.startTyping(user));
    socket.on('stopTyping', ({ user, room }) => this.room(room)?.stopTyping(user));
    socket.on('postUpdated', (post) => this.posts.updated(post));
    socket.on('postDeleted', (id) => this.posts.deleted(id));
    socket.on('announcement', ({ text }) => (this.announcement.value = text));

    // Same URL: socket.io-client multiplexes it over the connection above.
    this.notificationSocket = io(`${location.origin}/notifications`, { auth: (cb) => cb({ token: this.session.token }) });
    this.notificationSocket.on('unreadCount', ({ count }) => this.notifications.setUnread(count));
    this.notificationSocket.on('notification', (n) => this.onNotification(n));
    this.watchSessionErrors(this.notificationSocket);

    void this.client.connected().then(() => {
      this.markConnected();
      void this.loadReadState();
    });
  }

  get me() {
    return this.session.user;
  }

  room(name: string): RoomState | undefined {
    return this.rooms.value.find((r) => r.name === name) ?? this.joining.get(name);
  }

  conversation(userId: number): ConversationState | undefined {
    return this.conversations.value.find((c) => c.userId === userId);
  }

  // ---- rooms ----

  /**
   * Join `name` (rejoined after every reconnection): its members and history come with it. The
   * server adds it to the user's list, and the user's other devices join it too.
   */
  async joinRoom(input: string): Promise<RoomState> {
    // The server's spelling of the name (roomSchema): every spelling of a name is one room.
    const name = input.normalize('NFC').trim();
    const existing = this.room(name);
    if (existing) return existing;
    // Listed once joined; until then it still takes what arrives with the join (the welcome, the people).
    const room = this.joining.get(name) ?? new RoomState(name, (position) => this.client.readRoom(name, position));
    this.joining.set(name, room);
    try {
      const { users, count } = await this.client.join(name);
      room.setMembers(users, count);
    } finally {
      this.joining.delete(name);
    }
    if (!this.rooms.value.includes(room)) this.rooms.value = [...this.rooms.value, room];
    if (this.shown() === room) await this.loadHistory(room);
    return room;
  }

  /** Leave `room` on every device of the user: it leaves the user's list on the server ('forgetRoom'). */
  async leaveRoom(room: RoomState): Promise<void> {
    room.cursor.close();
    await this.client.forgetRoom(room.name);
    // Every device hears 'roomForgotten', this one too; the ack is enough here.
    this.forgotten(room.name);
  }

  /** The room is on screen: its history loaded once. */
  async opened(room: RoomState): Promise<void> {
    if (!room.historyLoaded) await this.loadHistory(room);
  }

  /**
   * The list of a room or a conversation scrolled to its newest message or away from it: shown
   * at the bottom in a visible tab, it is read up to its newest message.
   */
  seen(target: RoomState | ConversationState, atBottom: boolean): void {
    target.cursor.atBottom = atBottom;
    if (atBottom && this.shown() === target) target.cursor.read(target.newestPosition());
  }

  /** The page of history before the oldest message shown (the first page: the newest). */
  loadHistory(room: RoomState): Promise<void> {
    return loadOlder(
      room,
      (before) => api('roomMessages', { token: this.session.token, params: { room: room.name }, query: { limit: HISTORY_PAGE, before } }),
      (messages) => room.prependHistory(messages.reverse()),
    );
  }

  async send(room: RoomState, text: string): Promise<void> {
    this.stopTyping(room.name);
    await this.client.send(room.name, text);
  }

  /** The user typed in `room`'s composer: 'typing' at most every TYPING_RENEW_MS, 'stopTyping' once idle. */
  typing(room: string): void {
    if (!this.client.socket.connected) return;
    const state = this.typingState.get(room) ?? { sentAt: 0 };
    this.typingState.set(room, state);
    if (Date.now() - state.sentAt >= TYPING_RENEW_MS) {
      this.client.socket.emit('typing', { room });
      state.sentAt = Date.now();
    }
    clearTimeout(state.idle);
    state.idle = setTimeout(() => this.stopTyping(room), TYPING_IDLE_MS);
  }

  stopTyping(room: string): void {
    const state = this.typingState.get(room);
    if (!state) return;
    clearTimeout(state.idle);
    this.typingState.delete(room);
    if (this.client.socket.connected) this.client.socket.emit('stopTyping', { room });
  }

  // ---- private messages ----

  /** The conversation with the user named `username` (looked up), made if new. */
  async conversationWith(username: string): Promise<ConversationState> {
    const { user } = await api('userByName', { token: this.session.token, params: { username } });
    return this.ensureConversation(user.id, user.username);
  }

  async openedConversation(conversation: ConversationState): Promise<void> {
    if (!conversation.historyLoaded) await this.loadPrivateHistory(conversation);
  }

  loadPrivateHistory(conversation: ConversationState): Promise<void> {
    return loadOlder(
      conversation,
      (before) =>
        api('privateMessages', { token: this.session.token, params: { id: conversation.userId }, query: { limit: HISTORY_PAGE, before } }),
      (messages) => conversation.add(messages),
    );
  }

  async sendPrivate(conversation: ConversationState, text: string): Promise<void> {
    const id = await this.client.sendPrivate(conversation.userId, text);
    // Not handed back to this tab by the client; the user's other tabs get it from the server.
    conversation.add([
      { id, from: this.me.id, fromUsername: this.me.username, to: conversation.userId, message: text, timestamp: new Date().toISOString() },
    ]);
    this.rememberPrivatePosition();
    this.toTop(conversation);
  }

  // ---- read state ----

  /**
   * The server's list of rooms and conversations with their unread counts: rooms joined on other
   * devices are joined here, conversations listed, counts replaced by the server's.
   */
  private async loadReadState(): Promise<void> {
    let state: ReadState;
    try {
      state = await this.client.readState();
    } catch {
      // Kept as it is; the next reconnection asks again.
      return;
    }
    const listed = state.conversations.map((read) => {
      const conversation = this.conversation(read.user.id) ?? this.newConversation(read.user.id, read.user.username);
      this.learnName(read.user.id, read.user.username);
      conversation.cursor.heard(read);
      return conversation;
    });
    // Conversations started here and not written in yet come after the server's.
    this.conversations.value = [...listed, ...this.conversations.value.filter((c) => !listed.includes(c))];
    for (const read of state.rooms) this.heardRoom(read.room, read);
    this.readShown();
  }

  /** A cursor of the user's was created or moved, here or on another device. */
  private onReadState(update: ReadStateUpdate): void {
    if (update.room !== undefined) this.heardRoom(update.room, update);
    else if (update.userId !== undefined) this.ensureConversation(update.userId, this.nameOf(update.userId)).cursor.heard(update);
    this.readShown();
  }

  /** The server's word on room `name`'s cursor; a room not shown yet (joined on another device) is joined here. */
  private heardRoom(name: string, answer: ReadAnswer): void {
    const room = this.room(name);
    if (room) room.cursor.heard(answer);
    // Beyond the connection's 50 rooms the join is refused: the room is not shown here.
    else
      void this.joinRoom(name).then(
        (joined) => joined.cursor.heard(answer),
        () => undefined,
      );
  }

  /** `name` left the user's list (here or on another device): it is left here too. */
  private forgotten(name: string): void {
    const room = this.room(name);
    if (!room) return;
    batch(() => {
      // Off its page first, which would join it again.
      if (route.value.page === 'room' && route.value.room === name) navigate({ page: 'home' });
      this.rooms.value = this.rooms.value.filter((r) => r !== room);
    });
    room.close();
    void this.client.leave(name).catch(() => undefined);
  }

  /** The room or conversation on screen, in a visible tab. */
  private shown(): RoomState | ConversationState | undefined {
    if (document.visibilityState !== 'visible') return undefined;
    const page = route.value;
    return page.page === 'room' ? this.room(page.room) : page.page === 'dm' ? this.conversation(page.userId) : undefined;
  }

  /** What the tab shows, scrolled to the bottom, is read up to its newest message. */
  private readShown(): void {
    const shown = this.shown();
    if (shown?.cursor.atBottom) shown.cursor.read(shown.newestPosition());
  }

  // ---- names ----

  /** The user's name, once known: asked for at most once per id. */
  nameOf(userId: number): string | undefined {
    const known = this.names.value.get(userId);
    if (known === undefined && !this.nameRequests.has(userId)) {
      const request = api('user', { token: this.session.token, params: { id: userId } }).then(({ user }) => user.username);
      this.nameRequests.set(userId, request);
      void request.then(
        (name) => this.learnName(userId, name),
        () => this.nameRequests.delete(userId),
      );
    }
    return known;
  }

  close(): void {
    for (const dispose of this.disposers) dispose();
    for (const room of this.rooms.value) room.close();
    for (const conversation of this.conversations.value) conversation.close();
    this.notificationSocket.close();
    this.client.close();
  }

  // ---- events ----

  private onChatMessage(message: ChatMessage): void {
    const room = this.room(message.room);
    if (!room) return;
    room.addLive(message);
    if (message.userId !== this.me.id) this.arrived(room, message.position);
  }

  /** A message of someone else's: unread unless the tab shows it at the bottom (then it is read with the list's next render). */
  private arrived(target: RoomState | ConversationState, position: number): void {
    if (!(this.shown() === target && target.cursor.atBottom)) target.cursor.arrived(position);
  }

  private onPrivateMessage(message: PrivateMessage): void {
    const mine = message.from === this.me.id;
    const otherId = mine ? message.to : message.from;
    const conversation = this.ensureConversation(otherId, mine ? this.nameOf(otherId) : message.fromUsername);
    const direct: DirectMessage = message;
    conversation.add([direct]);
    if (!mine) this.arrived(conversation, message.position);
    this.rememberPrivatePosition();
    this.toTop(conversation);
  }

  private onNotification(notification: Notification): void {
    this.notifications.received(notification);
    const postId = notification.data.postId;
    if (notification.type === 'new_post' && typeof postId === 'number') {
      void api('getPost', { params: { id: postId } })
        .then((post) => this.posts.added(post))
        .catch(() => undefined);
    }
  }

  private ensureConversation(userId: number, username: string | undefined): ConversationState {
    const existing = this.conversation(userId);
    if (existing) return existing;
    const conversation = this.newConversation(userId, username ?? `user ${userId}`);
    if (username) this.learnName(userId, username);
    this.conversations.value = [conversation, ...this.conversations.value];
    return conversation;
  }

  private newConversation(userId: number, username: string): ConversationState {
    return new ConversationState(userId, username, (position) => this.client.readConversation(userId, position));
  }

  /** The most recent conversation first. */
  private toTop(conversation: ConversationState): void {
    if (this.conversations.value[0] === conversation) return;
    this.conversations.value = [conversation, ...this.conversations.value.filter((c) => c !== conversation)];
  }

  private learnName(userId: number, name: string): void {
    if (this.names.value.get(userId) === name) return;
    this.names.value = new Map(this.names.value).set(userId, name);
    const conversation = this.conversation(userId);
    if (conversation && conversation.username !== name) {
      conversation.username = name;
      this.conversations.value = [...this.conversations.value];
    }
  }

  private rememberPrivatePosition(): void {
    const position = this.client.privatePosition();
    if (position !== undefined) remember(this.me.id, 'privatePosition', position);
  }

  private markConnected(): void {
    if (this.client.socket.connected) this.connection.value = 'connected';
  }

  private watchConnection(socket: ParleyClient['socket']): void {
    socket.on('connect', () => {
      if (this.connection.value !== 'connecting') this.connection.value = 'catching-up';
      void this.client.connected().then(() => this.markConnected());
    });
    socket.on('disconnect', () => {
      this.connection.value = navigator.onLine ? 'reconnecting' : 'offline';
    });
    const offline = () => {
      if (!socket.connected) this.connection.value = 'offline';
    };
    const online = () => {
      if (!socket.connected) this.connection.value = 'reconnecting';
    };
    // Back to a tab that shows a room or a conversation: what it shows is read.
    const visible = () => this.readShown();
    addEventListener('offline', offline);
    addEventListener('online', online);
    document.addEventListener('visibilitychange', visible);
    this.disposers.push(() => {
      removeEventListener('offline', offline);
      removeEventListener('online', online);
      document.removeEventListener('visibilitychange', visible);
    });
    this.watchSessionErrors(socket);
  }

  /** A refused handshake or a live socket told its token expired or was revoked: the session is over. */
  private watchSessionErrors(socket: Socket): void {
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      if (SESSION_ENDED.has(String(err.data?.code))) signOut(sessionEndedMessage(String(err.data?.code)));
    });
    socket.on('error', (body: { code?: string }) => {
      if (SESSION_ENDED.has(String(body.code))) signOut(sessionEndedMessage(String(body.code)));
    });
  }
}

/** What a room and a conversation share: history loaded a page at a time, newest first. */
interface Paged {
  readonly loadingOlder: Signal<boolean>;
  readonly hasOlder: Signal<boolean>;
  historyLoaded: boolean;
  oldestId(): number | undefined;
}

/**
 * The page before the oldest message `target` shows (the newest page the first time), once at a
 * time; `hasOlder` turns false when a page comes back short.
 */
async function loadOlder<M>(
  target: Paged,
  fetchPage: (before: number | undefined) => Promise<{ messages: M[] }>,
  add: (messages: M[]) => void,
): Promise<void> {
  if (target.loadingOlder.value || (target.historyLoaded && !target.hasOlder.value)) return;
  target.loadingOlder.value = true;
  try {
    const { messages } = await fetchPage(target.historyLoaded ? target.oldestId() : undefined);
    batch(() => {
      add(messages);
      target.hasOlder.value = messages.length === HISTORY_PAGE;
      target.historyLoaded = true;
    });
  } finally {
    target.loadingOlder.value = false;
  }
}

function sessionEndedMessage(code: string): string {
  return code === 'token_expired' ? 'Your session expired. Please sign in again.' : 'Your session ended. Please sign in again.';
}

/** A refusal's human text (the server's message), for an alert. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError || err instanceof ParleyClientError) return err.message;
  if (err instanceof Error && err.message.includes('timed out')) return 'Parley did not answer in time. Try again.';
  return 'Something went wrong. Try again.';
}
