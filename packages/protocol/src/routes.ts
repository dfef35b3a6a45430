import { z } from 'zod';
import type { ErrorCode } from './errors.ts';
import {
  chatMessagePayload,
  errorBodySchema,
  notificationPayload,
  postPayload,
  conversationReadPayload,
  privateMessagePayload,
  publicUserSchema,
  readStatePayload,
  roomReadPayload,
} from './payloads.ts';
import {
  accountDeletionSchema,
  bigIdParamsSchema,
  credentialsSchema,
  followPageQuerySchema,
  historyQuerySchema,
  idParamsSchema,
  loginSchema,
  notificationsQuerySchema,
  pageQuerySchema,
  passwordChangeSchema,
  postBodySchema,
  postUpdateSchema,
  readPositionBodySchema,
  roomParamsSchema,
  userIdParamsSchema,
  usernameParamsSchema,
} from './schemas.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * One HTTP route of the contract. `auth`: a Bearer token is required. `responses`: the body of
 * each status it answers without an error body (`null`: no body). `errors`: the codes it can answer besides the ones
 * every route can (`internal_error`, `unavailable`, and `unauthorized` / `token_expired` / `token_revoked` on
 * routes with `auth`).
 */
export interface HttpRoute {
  method: HttpMethod;
  path: string;
  summary: string;
  tags: readonly string[];
  auth: boolean;
  params?: z.ZodObject;
  querystring?: z.ZodObject;
  body?: z.ZodType;
  responses: Readonly<Partial<Record<200 | 201 | 204 | 503, z.ZodType | null>>>;
  errors: readonly ErrorCode[];
}

/** The error body every route answers with: `{ error: { code, message } }`. */
export const errorResponseSchema = z.object({ error: errorBodySchema });

const session = z.object({ token: z.string(), user: publicUserSchema });
const users = z.object({ users: z.array(publicUserSchema) });
const readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  nodeId: z.string(),
  checks: z.record(z.string(), z.enum(['ok', 'down'])),
});

/**
 * Every HTTP route the gateway serves (docs/PROTOCOL.md, extensions included),
 * declared once with its schemas. The gateway registers its routes from this, the OpenAPI
 * document at `/openapi.json` is generated from it, and clients, the load tool and the k6
 * scripts' check use it; `:param` segments are filled by `routePath`.
 */
export const HTTP_ROUTES = {
  register: {
    method: 'POST',
    path: '/auth/register',
    summary: 'Create an account and get a token',
    tags: ['auth'],
    auth: false,
    body: credentialsSchema,
    responses: { 201: session },
    errors: ['invalid_payload', 'username_taken', 'payload_too_large'],
  },
  login: {
    method: 'POST',
    path: '/auth/login',
    summary: 'Get a token',
    tags: ['auth'],
    auth: false,
    body: loginSchema,
    responses: { 200: session },
    errors: ['invalid_payload', 'invalid_credentials', 'payload_too_large'],
  },
  me: {
    method: 'GET',
    path: '/me',
    summary: 'The caller',
    tags: ['auth'],
    auth: true,
    responses: { 200: z.object({ user: publicUserSchema }) },
    errors: [],
  },
  refresh: {
    method: 'POST',
    path: '/auth/refresh',
    summary: 'A new token for the caller (same token version), before the current one expires',
    tags: ['auth'],
    auth: true,
    responses: { 200: session },
    errors: [],
  },
  changePassword: {
    method: 'POST',
    path: '/auth/password',
    summary: "Change the caller's password: every older token is revoked, live sockets included; returns a new token",
    tags: ['auth'],
    auth: true,
    body: passwordChangeSchema,
    responses: { 200: session },
    errors: ['invalid_payload', 'invalid_credentials', 'payload_too_large'],
  },
  deleteMe: {
    method: 'DELETE',
    path: '/me',
    summary: "Delete the caller's account (password confirms): its data, tokens and live sockets go with it",
    tags: ['auth'],
    auth: true,
    body: accountDeletionSchema,
    responses: { 204: null },
    errors: ['invalid_payload', 'invalid_credentials', 'payload_too_large'],
  },
  healthz: {
    method: 'GET',
    path: '/healthz',
    summary: 'Liveness: the process is up',
    tags: ['health'],
    auth: false,
    responses: { 200: z.object({ status: z.literal('ok'), nodeId: z.string() }) },
    errors: [],
  },
  readyz: {
    method: 'GET',
    path: '/readyz',
    summary: 'Readiness: every dependency answers (503 with the failing check otherwise)',
    tags: ['health'],
    auth: false,
    // 503: the failing check, or the error body while the node shuts down.
    responses: { 200: readiness, 503: z.union([readiness, errorResponseSchema]) },
    errors: [],
  },
  roomMessages: {
    method: 'GET',
    path: '/rooms/:room/messages',
    summary: 'Chat history of a room, newest first',
    tags: ['rooms'],
    auth: true,
    params: roomParamsSchema,
    querystring: historyQuerySchema,
    responses: { 200: z.object({ messages: z.array(chatMessagePayload) }) },
    errors: ['invalid_payload', 'forbidden'],
  },
  privateMessages: {
    method: 'GET',
    path: '/users/:id/messages',
    summary: 'Private messages between the caller and user :id (both directions), newest first',
    tags: ['messages'],
    auth: true,
    params: idParamsSchema,
    querystring: historyQuerySchema,
    responses: { 200: z.object({ messages: z.array(privateMessagePayload) }) },
    errors: ['invalid_payload', 'not_found'],
  },
  user: {
    method: 'GET',
    path: '/users/:id',
    summary: 'A user by id (extension)',
    tags: ['users'],
    auth: true,
    params: idParamsSchema,
    responses: { 200: z.object({ user: publicUserSchema }) },
    errors: ['invalid_payload', 'not_found'],
  },
  userByName: {
    method: 'GET',
    path: '/users/by-name/:username',
    summary: 'A user by username (extension)',
    tags: ['users'],
    auth: true,
    params: usernameParamsSchema,
    responses: { 200: z.object({ user: publicUserSchema }) },
    errors: ['invalid_payload', 'not_found'],
  },
  follow: {
    method: 'POST',
    path: '/users/:id/follow',
    summary: 'Follow a user (idempotent)',
    tags: ['follows'],
    auth: true,
    params: idParamsSchema,
    responses: { 204: null },
    errors: ['invalid_payload', 'cannot_follow_self', 'not_found'],
  },
  unfollow: {
    method: 'DELETE',
    path: '/users/:id/follow',
    summary: 'Unfollow a user (idempotent)',
    tags: ['follows'],
    auth: true,
    params: idParamsSchema,
    responses: { 204: null },
    errors: ['invalid_payload', 'not_found'],
  },
  followers: {
    method: 'GET',
    path: '/users/:id/followers',
    summary: 'Followers of a user, by ascending id',
    tags: ['follows'],
    auth: false,
    params: idParamsSchema,
    querystring: followPageQuerySchema,
    responses: { 200: users },
    errors: ['invalid_payload', 'not_found'],
  },
  following: {
    method: 'GET',
    path: '/users/:id/following',
    summary: 'Users a user follows, by ascending id (extension)',
    tags: ['follows'],
    auth: false,
    params: idParamsSchema,
    querystring: followPageQuerySchema,
    responses: { 200: users },
    errors: ['invalid_payload', 'not_found'],
  },
  createPost: {
    method: 'POST',
    path: '/posts',
    summary: 'Write a post; every follower is notified',
    tags: ['posts'],
    auth: true,
    body: postBodySchema,
    responses: { 201: postPayload },
    errors: ['invalid_payload', 'payload_too_large'],
  },
  listPosts: {
    method: 'GET',
    path: '/posts',
    summary: 'Posts, newest first',
    tags: ['posts'],
    auth: false,
    querystring: pageQuerySchema,
    responses: { 200: z.object({ posts: z.array(postPayload) }) },
    errors: ['invalid_payload'],
  },
  getPost: {
    method: 'GET',
    path: '/posts/:id',
    summary: 'One post',
    tags: ['posts'],
    auth: false,
    params: idParamsSchema,
    responses: { 200: postPayload },
    errors: ['invalid_payload', 'not_found'],
  },
  updatePost: {
    method: 'PUT',
    path: '/posts/:id',
    summary: 'Edit your post; every socket on / gets postUpdated',
    tags: ['posts'],
    auth: true,
    params: idParamsSchema,
    body: postUpdateSchema,
    responses: { 200: postPayload },
    errors: ['invalid_payload', 'forbidden', 'not_found', 'payload_too_large'],
  },
  deletePost: {
    method: 'DELETE',
    path: '/posts/:id',
    summary: 'Delete your post; every socket on / gets postDeleted',
    tags: ['posts'],
    auth: true,
    params: idParamsSchema,
    responses: { 204: null },
    errors: ['invalid_payload', 'forbidden', 'not_found'],
  },
  notifications: {
    method: 'GET',
    path: '/notifications',
    summary: "The caller's notifications, newest first",
    tags: ['notifications'],
    auth: true,
    querystring: notificationsQuerySchema,
    responses: { 200: z.object({ notifications: z.array(notificationPayload), unreadCount: z.number().int() }) },
    errors: ['invalid_payload'],
  },
  readNotification: {
    method: 'POST',
    path: '/notifications/:id/read',
    summary: 'Mark one notification read',
    tags: ['notifications'],
    auth: true,
    params: bigIdParamsSchema,
    responses: { 204: null },
    errors: ['invalid_payload', 'not_found'],
  },
  readAllNotifications: {
    method: 'POST',
    path: '/notifications/read-all',
    summary: 'Mark every notification read (extension)',
    tags: ['notifications'],
    auth: true,
    responses: { 200: z.object({ updated: z.number().int() }) },
    errors: [],
  },
  readState: {
    method: 'GET',
    path: '/me/read-state',
    summary: "The caller's rooms and conversations with their read cursors and unread counts (extension)",
    tags: ['read state'],
    auth: true,
    responses: { 200: readStatePayload },
    errors: [],
  },
  readRoom: {
    method: 'PUT',
    path: '/me/read-state/rooms/:room',
    summary: "Move the caller's read cursor in a room forward (extension); every socket of the caller gets readState",
    tags: ['read state'],
    auth: true,
    params: roomParamsSchema,
    body: readPositionBodySchema,
    responses: { 200: roomReadPayload },
    errors: ['invalid_payload', 'forbidden', 'payload_too_large'],
  },
  forgetRoom: {
    method: 'DELETE',
    path: '/me/read-state/rooms/:room',
    summary: "Drop a room from the caller's list (extension); every socket of the caller gets roomForgotten",
    tags: ['read state'],
    auth: true,
    params: roomParamsSchema,
    responses: { 204: null },
    errors: ['invalid_payload', 'forbidden'],
  },
  readConversation: {
    method: 'PUT',
    path: '/me/read-state/conversations/:userId',
    summary: "Move the caller's read cursor in the conversation with a user forward (extension); every socket of the caller gets readState",
    tags: ['read state'],
    auth: true,
    params: userIdParamsSchema,
    body: readPositionBodySchema,
    responses: { 200: conversationReadPayload },
    errors: ['invalid_payload', 'not_found', 'payload_too_large'],
  },
} as const satisfies Record<string, HttpRoute>;

export type RouteName = keyof typeof HTTP_ROUTES;

type RouteDef<R extends RouteName> = (typeof HTTP_ROUTES)[R];
/** The body of one of route `R`'s success statuses (nothing for a 204). */
export type RouteResponse<R extends RouteName> = {
  [S in keyof RouteDef<R>['responses']]: RouteDef<R>['responses'][S] extends infer B extends z.ZodType ? z.output<B> : void;
}[keyof RouteDef<R>['responses']];
/** What route `R` takes, validated by its schemas: params, query string and body (each `never` when the route has none). */
export type RouteInput<R extends RouteName, K extends 'params' | 'querystring' | 'body'> =
  RouteDef<R> extends { [P in K]: infer S extends z.ZodType } ? z.input<S> : never;

/**
 * A route's path with its `:params` filled in (URI-encoded).
 * @example routePath('follow', { id: 7 }) // '/users/7/follow'
 */
export function routePath(name: RouteName, params: Record<string, string | number> = {}): string {
  return HTTP_ROUTES[name].path.replace(/:([A-Za-z]+)/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`routePath(${name}): missing :${key}`);
    return encodeURIComponent(String(value));
  });
}
