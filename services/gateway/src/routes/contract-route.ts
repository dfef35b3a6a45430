import type {} from '@fastify/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import { z } from 'zod';
import {
  ERRORS,
  errorResponseSchema,
  HTTP_ROUTES,
  type ErrorCode,
  type HttpRoute,
  type RouteName,
  type RouteResponse,
} from '@parley/protocol';

type Def<R extends RouteName> = (typeof HTTP_ROUTES)[R];
type Parsed<D, K extends string> = D extends { [P in K]: infer S extends z.ZodType } ? z.output<S> : unknown;

/** The request of route `R`: params, query and body already validated by its schemas. */
export type RouteRequest<R extends RouteName> = FastifyRequest<{
  Params: Parsed<Def<R>, 'params'>;
  Querystring: Parsed<Def<R>, 'querystring'>;
  Body: Parsed<Def<R>, 'body'>;
}>;

/** A handler answers with one of the route's success bodies (the compiler checks it). */
export type RouteHandler<R extends RouteName> = (request: RouteRequest<R>, reply: FastifyReply) => Promise<RouteResponse<R>>;

/** A response without a body (@fastify/swagger documents `type: 'null'` as no content). */
const NO_CONTENT = z.null().describe('No Content');

/** Codes every route may answer with, besides its own (rate_limited: the per-address limit of every route). */
const COMMON_ERRORS: readonly ErrorCode[] = ['internal_error', 'unavailable', 'rate_limited'];
const AUTH_ERRORS: readonly ErrorCode[] = ['unauthorized', 'token_expired', 'token_revoked'];

/** The Fastify schema of a contract route: validation, serialization and its OpenAPI entry. */
function routeSchema(name: RouteName, def: HttpRoute): FastifySchema {
  const response: Record<number, z.ZodType> = {};
  for (const [status, body] of Object.entries(def.responses)) response[Number(status)] = body ?? NO_CONTENT;
  const errors = [...def.errors, ...COMMON_ERRORS, ...(def.auth ? AUTH_ERRORS : [])];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errors) byStatus.set(ERRORS[code].status, [...(byStatus.get(ERRORS[code].status) ?? []), code]);
  for (const [status, codes] of byStatus) response[status] ??= errorResponseSchema.describe(codes.join(', '));
  return {
    operationId: name,
    summary: def.summary,
    tags: [...def.tags],
    ...(def.auth ? { security: [{ bearerAuth: [] }] } : {}),
    ...(def.params ? { params: def.params } : {}),
    ...(def.querystring ? { querystring: def.querystring } : {}),
    ...(def.body ? { body: def.body } : {}),
    response,
  };
}

/**
 * Register contract route `name` (HTTP_ROUTES): its method, path and schemas come from the
 * contract, a Bearer token is checked before the body is read when the route requires one (so a
 * missing token is 401 whatever the body), and a validation failure is `invalid_payload`
 * (app.ts maps it in one place).
 */
export function contractRoute<R extends RouteName>(app: FastifyInstance, name: R, handler: RouteHandler<R>): void {
  const def: HttpRoute = HTTP_ROUTES[name];
  app.route({
    method: def.method,
    url: def.path,
    schema: routeSchema(name, def),
    // onRequest: before the body is even read, so a caller without a token cannot make the node parse one.
    ...(def.auth ? { onRequest: app.requireUser } : {}),
    handler: handler as (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
  });
}
