import type { Duplex } from 'node:stream';
import cors from '@fastify/cors';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { RedisClient } from './pubsub/redis-client.ts';
import type { Logger } from 'pino';
import type { Config } from '@parley/config';
import { errorBody, ParleyError, type ErrorCode } from '@parley/protocol';
import { describeIssue } from './domain/validation.ts';
import { rawErrorResponse, toParleyError } from './domain/errors.ts';
import { createPasswordHasher, type PasswordHasher } from './domain/passwords.ts';
import { authPlugin } from './plugins/auth.ts';
import { dbPlugin } from './plugins/db.ts';
import { limitsPlugin } from './plugins/limits.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { notificationsPlugin } from './plugins/notifications.ts';
import { realtimePlugin } from './plugins/realtime.ts';
import { redisPlugin } from './plugins/redis.ts';
import { sessionsPlugin } from './plugins/sessions.ts';
import { webPlugin } from './plugins/web.ts';
import { authRoutes } from './routes/auth.ts';
import { followRoutes } from './routes/follows.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { postRoutes } from './routes/posts.ts';
import { privateMessageRoutes } from './routes/private-messages.ts';
import { roomRoutes } from './routes/rooms.ts';
import { userRoutes } from './routes/users.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Every password hash and check of this node, through one bounded queue (SCRYPT_CONCURRENCY, SCRYPT_QUEUE_MAX). */
    passwords: PasswordHasher;
  }
}

/** Version of the HTTP API in the OpenAPI document. */
const API_VERSION = '1.0.0';
/** Largest HTTP body accepted (posts are the biggest). */
const BODY_LIMIT = 64 * 1024;
/**
 * How long one plugin may take to load. Fastify's 10 s default is too short for the embedded
 * database (PGlite compiles its WASM and may run initdb) on a busy machine.
 */
const PLUGIN_TIMEOUT_MS = 120_000;

function toErrorReply(err: FastifyError | ParleyError): { status: number; body: { error: ReturnType<typeof errorBody> } } {
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issue = err.validation[0];
    const path = issue?.instancePath.split('/').filter(Boolean) ?? [];
    return { status: 400, body: { error: errorBody('invalid_payload', describeIssue(path, issue?.message)) } };
  }
  if (!(err instanceof ParleyError)) {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: errorBody('payload_too_large') } };
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own 4xx: malformed JSON, wrong content type, empty body...
      return { status: 400, body: { error: errorBody('invalid_payload', err.message) } };
    }
  }
  const parley = toParleyError(err);
  return { status: parley.status, body: { error: parley.toBody() } };
}

/** Trust the `hops` nearest proxies, whatever their addresses. */
function trustHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them, answered in the contract's shape
 * (Fastify's default answers its own body, and 431 for headers over 16 KiB): headers or URL too
 * large -> 413 payload_too_large, anything else malformed -> 400 invalid_payload.
 */
function clientErrorHandler(refused: (code: ErrorCode) => void) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const { status, body } =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? { status: 413, body: errorBody('payload_too_large', 'The request headers or URL are too large') }
        : { status: 400, body: errorBody('invalid_payload', 'Malformed HTTP request') };
    refused(body.code);
    socket.end(rawErrorResponse(status, body));
  };
}

/** Readiness of Redis: fails at once while disconnected (commands would wait for the reconnection). */
async function pingRedis(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') throw new Error(`redis is ${client.status}`);
  await client.ping();
}

/**
 * Build a Parley node: HTTP routes and Socket.IO on one Fastify instance. It opens its
 * database (and Redis) when made ready, never listens; `main.ts` does that.
 */
export async function buildApp(config: Config, logger: Logger): Promise<FastifyInstance> {
  /** Every error answer over HTTP, counted by code (parley_errors_total). */
  const refused = (code: ErrorCode) => app.metrics?.refused('http', code);
  const app: FastifyInstance = Fastify({
    // pino's Logger is a FastifyBaseLogger; the cast keeps the instance's logger type the base one.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    pluginTimeout: PLUGIN_TIMEOUT_MS,
    // Whose X-Forwarded-For names the client (request.ip): nginx's, by default on this host. A hop
    // count is what Fastify does with a number (its types only omit it).
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // Request lines are not logged (they would dominate under load); errors are.
    logController: new LogController({ disableRequestLogging: true }),
    // Requests arriving while the node shuts down are refused below, in the protocol's shape.
    return503OnClosing: false,
    clientErrorHandler: clientErrorHandler(refused),
    // Errors raised before routing (a badly percent-encoded URL) get the same error shape.
    frameworkErrors: (err, _request, reply) => {
      const { status, body } = toErrorReply(err);
      refused(body.error.code);
      (reply as FastifyReply).code(status).send(body);
    },
  });

  // Routes declare zod schemas (packages/protocol HTTP_ROUTES): they validate requests and
  // serialize replies, and the OpenAPI document is generated from them.
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err: FastifyError | ParleyError, request, reply) => {
    const { status, body } = toErrorReply(err);
    refused(body.error.code);
    if (err instanceof ParleyError && err.retryAfterSec !== undefined) reply.header('retry-after', err.retryAfterSec);
    if (status === 503 && !(err instanceof ParleyError))
      request.log.warn({ err, code: body.error.code }, 'request failed: a dependency is unavailable');
    else if (status >= 500 && !(err instanceof ParleyError)) request.log.error({ err, code: body.error.code }, 'request failed');
    return reply.code(status).send(body);
  });
  // A browser navigation to one of the web app's pages gets the page; anything else is a JSON 404.
  app.setNotFoundHandler((request, reply) => {
    const page = app.webFallback(request, reply);
    if (page) return page;
    refused('not_found');
    return reply.code(404).send({ error: errorBody('not_found', `No route ${request.method} ${request.url.split('?')[0]}`) });
  });

  // A plugin that fails (the database unreachable, the admin name taken) must not leave the
  // ones before it open: close what was opened, then fail.
  try {
    await app.register(cors, { origin: config.corsOrigin, credentials: true });
    // Graceful shutdown (SIGTERM -> app.close()): from the first preClose hook on, every new
    // request is 503 unavailable, so a load balancer sends it elsewhere. After CORS: a browser
    // page must see the 503 (with its CORS headers), not a CORS failure.
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onRequest', async (_request, reply) => {
      if (!closing) return;
      reply.header('connection', 'close');
      throw new ParleyError('unavailable', 'This node is shutting down');
    });
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Parley',
          version: API_VERSION,
          description: 'HTTP API of a Parley node (the Socket.IO events are in docs/PROTOCOL.md)',
        },
        components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      },
      transform: jsonSchemaTransform,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
    app.decorate('passwords', createPasswordHasher({ cost: config.scryptCost, ...config.limits.passwords }));
    await app.register(metricsPlugin, { config });
    await app.register(dbPlugin, { config });
    await app.register(authPlugin, { config });
    await app.register(redisPlugin, { config });
    await app.register(limitsPlugin, { config });
    await app.register(realtimePlugin, { config });
    await app.register(sessionsPlugin, { config });
    await app.register(notificationsPlugin, { config });
    const redis = app.redis;
    await app.register(healthRoutes, {
      config,
      checks: { database: () => app.db.ping(), ...(redis ? { redis: () => pingRedis(redis.pub) } : {}) },
    });
    if (app.metrics) await app.register(metricsRoutes, { metrics: app.metrics, token: config.metrics.token });
    await app.register(authRoutes, { config });
    await app.register(roomRoutes);
    await app.register(privateMessageRoutes);
    await app.register(postRoutes, { config });
    await app.register(userRoutes);
    await app.register(followRoutes);
    await app.register(notificationRoutes);
    await app.register(webPlugin, { config });
  } catch (err) {
    await app.close().catch(() => {});
    throw err;
  }
  return app;
}
