import { randomBytes } from 'node:crypto';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type { Post, PublicUser } from '@parley/protocol';

export type ClientSocket = Socket;

/** How long a test waits for an event that must come before it fails. */
export const EVENT_TIMEOUT_MS = 5000;

export function uniqueName(prefix = 'u'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

export interface Session {
  token: string;
  user: PublicUser;
}

export interface HttpOptions {
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as is (malformed JSON, other content types); content-type defaults to application/json. */
  raw?: string;
  headers?: Record<string, string>;
}

export async function http<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: HttpOptions = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined || options.raw !== undefined) headers['content-type'] = 'application/json';
  Object.assign(headers, options.headers);
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    // Bounded, with the request named when it fails.
    signal: AbortSignal.timeout(2 * EVENT_TIMEOUT_MS),
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  }).catch((err: unknown) => {
    throw new Error(`${method} ${path}: ${String(err)}`, { cause: err });
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

/** Register a fresh user (unique name unless given) and return its token. */
export async function registerUser(baseUrl: string, username = uniqueName(), password = 'password123'): Promise<Session> {
  const res = await http<Session>(baseUrl, 'POST', '/auth/register', { body: { username, password } });
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Log in an existing user (e.g. the bootstrapped admin). */
export async function login(baseUrl: string, username: string, password: string): Promise<Session> {
  const res = await http<Session>(baseUrl, 'POST', '/auth/login', { body: { username, password } });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** `follower` follows `followeeId`; throws unless the server answers 204. */
export async function follow(baseUrl: string, follower: Session, followeeId: number): Promise<void> {
  const res = await http(baseUrl, 'POST', `/users/${followeeId}/follow`, { token: follower.token });
  if (res.status !== 204) throw new Error(`follow ${followeeId}: ${res.status} ${JSON.stringify(res.body)}`);
}

/** `POST /posts` as `author`; throws unless 201. */
export async function createPost(baseUrl: string, author: Session, body: object = { content: 'news' }): Promise<Post> {
  const res = await http<Post>(baseUrl, 'POST', '/posts', { token: author.token, body });
  if (res.status !== 201) throw new Error(`create post: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * A post by `author` reaching a follower: a fresh user follows `author`, listens on
 * '/notifications', and resolves with that socket (the caller closes it) once the post's
 * notification arrived.
 */
export async function postToFollower(baseUrl: string, author: Session, body: object = { content: 'news' }): Promise<ClientSocket> {
  const follower = await registerUser(baseUrl);
  await follow(baseUrl, follower, author.user.id);
  const listener = await connect(baseUrl, '/notifications', follower.token);
  const notified = nextEvent(listener, 'notification');
  await createPost(baseUrl, author, body);
  await notified;
  return listener;
}

export interface Client extends Session {
  socket: ClientSocket;
}

/** Register a fresh user and connect one socket for it (more with `connect(url, ns, client.token)`). */
export async function registerAndConnect(baseUrl: string, namespace = '/'): Promise<Client> {
  const session = await registerUser(baseUrl);
  return { ...session, socket: await connect(baseUrl, namespace, session.token) };
}

/**
 * Connect to a namespace and resolve once connected; rejects with the connect_error.
 * `setup` runs before the connection starts: attach listeners there for what the server
 * sends right on connect (e.g. the notification backlog).
 */
export function connect(
  baseUrl: string,
  namespace: string,
  token: string | undefined,
  options: Partial<ManagerOptions & SocketOptions> = {},
  setup?: (socket: ClientSocket) => void,
): Promise<ClientSocket> {
  const socket = io(new URL(namespace, baseUrl).toString(), {
    auth: token === undefined ? {} : { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...options,
    autoConnect: false,
  });
  setup?.(socket);
  socket.connect();
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** The connect_error a connection attempt fails with; rejects if it connects instead. */
export async function connectError(
  baseUrl: string,
  namespace: string,
  token: string | undefined,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Error & { data?: { code: string; message: string } }> {
  try {
    const socket = await connect(baseUrl, namespace, token, options);
    socket.close();
  } catch (err) {
    return err as Error & { data?: { code: string; message: string } };
  }
  throw new Error(`connected to ${namespace} but a connect_error was expected`);
}

/**
 * Settle as `promise` does, or reject after `timeoutMs` with an error naming `what` (for waits
 * that are not a socket event: a client library callback, a process exiting, a disconnect).
 */
export function within<T>(what: string, promise: Promise<T>, timeoutMs = EVENT_TIMEOUT_MS): Promise<T> {
  // Made now so that its stack shows which wait timed out.
  const timeout = new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(timeout), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolve with the next `event` (its first argument); reject after `timeoutMs`. */
export function nextEvent<T = unknown>(
  socket: ClientSocket,
  event: string,
  predicate: (value: T) => boolean = () => true,
  timeoutMs = EVENT_TIMEOUT_MS,
): Promise<T> {
  // Made now so that its stack shows which wait timed out.
  const timeout = new Error(`timed out waiting for "${event}"`);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(timeout);
    }, timeoutMs);
    const listener = (value: T) => {
      if (!predicate(value)) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(value);
    };
    socket.on(event, listener);
  });
}

/** Collect every `event` from now on (inspect the array later). */
export function collect<T = unknown>(socket: ClientSocket, event: string): T[] {
  const seen: T[] = [];
  socket.on(event, (value: T) => seen.push(value));
  return seen;
}

/** Resolve with the next `count` `event`s (first arguments, in order); reject after EVENT_TIMEOUT_MS. */
export function nextEvents<T = unknown>(socket: ClientSocket, event: string, count: number): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const seen: T[] = [];
    const timer = setTimeout(() => {
      socket.off(event, listener);
      reject(new Error(`timed out waiting for ${count} "${event}" (got ${seen.length})`));
    }, EVENT_TIMEOUT_MS);
    const listener = (value: T) => {
      seen.push(value);
      if (seen.length < count) return;
      clearTimeout(timer);
      socket.off(event, listener);
      resolve(seen);
    };
    socket.on(event, listener);
  });
}

/**
 * Every `event` from now on up to and including the first one that matches `isMarker`.
 * Send a marker after the thing under test to prove what did (not) arrive before it, without
 * sleeping.
 */
export function collectUntil<T = unknown>(socket: ClientSocket, event: string, isMarker: (value: T) => boolean): Promise<T[]> {
  const seen: T[] = [];
  return nextEvent<T>(socket, event, (value) => {
    seen.push(value);
    return isMarker(value);
  }).then(() => seen);
}

/** Emit with an ack and resolve with the server's answer. */
export function request<T = unknown>(socket: ClientSocket, event: string, ...args: unknown[]): Promise<T> {
  // Any payload on purpose: the tests send invalid ones too. `T` is what the test expects back.
  return new Promise((resolve, reject) => {
    socket.timeout(EVENT_TIMEOUT_MS).emit(event, ...args, (err: Error | null, ack: T) => (err ? reject(err) : resolve(ack)));
  });
}
