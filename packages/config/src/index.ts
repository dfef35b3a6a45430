import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { passwordSchema, usernameSchema } from '@parley/protocol';

/** Shortest JWT_SECRET production accepts. */
export const MIN_PRODUCTION_SECRET_LENGTH = 32;
/**
 * Parts of the secrets written in this repository and its docs (compose's old default, the
 * test kit's, the bench's, the tests') and of placeholders: a production secret containing one
 * is public or made up by hand, and refused.
 */
const PUBLIC_SECRET_PARTS = ['secret', 'change', 'example', 'placeholder', 'insecure', 'password', '0123456789'];

/**
 * Outside production without JWT_SECRET: a random secret kept in `<dataDir>/jwt-secret` (mode
 * 0600), created once (atomically: nodes of `pnpm cluster` starting together agree on it).
 */
function developmentSecret(dataDir: string): string {
  const file = join(dataDir, 'jwt-secret');
  const existing = readSecret(file);
  if (existing) return existing;
  mkdirSync(dataDir, { recursive: true });
  const candidate = join(dataDir, `jwt-secret.${process.pid}.${randomBytes(4).toString('hex')}`);
  writeFileSync(candidate, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  try {
    linkSync(candidate, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(candidate);
  }
  return readFileSync(file, 'utf8').trim();
}

function readSecret(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function productionSecretProblem(secret: string | undefined): string | undefined {
  if (!secret) return 'required when NODE_ENV=production';
  if (secret.length < MIN_PRODUCTION_SECRET_LENGTH) return `at least ${MIN_PRODUCTION_SECRET_LENGTH} characters in production`;
  const part = PUBLIC_SECRET_PARTS.find((p) => secret.toLowerCase().includes(p));
  if (part) return `looks like a published placeholder (contains "${part}"); use a random one, e.g. \`openssl rand -hex 32\``;
  return undefined;
}

/** Names proxy-addr (Fastify's `trustProxy`) knows for address ranges. */
const PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An address, an address/prefix (CIDR) or a range name. */
function isProxyAddress(entry: string): boolean {
  if (PROXY_RANGES.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

/** TRUST_PROXY: 'true' / 'false', a hop count, or a comma-separated list of addresses, CIDRs and range names. */
const trustProxy = z.string().transform((value, ctx): boolean | number | string[] => {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d{1,2}$/.test(value)) return Number(value);
  const entries = value.split(',').map((s) => s.trim());
  const bad = entries.find((entry) => !isProxyAddress(entry));
  if (bad === undefined) return entries;
  ctx.addIssue({
    code: 'custom',
    message: `"${bad}" is not an address, CIDR, loopback / linklocal / uniquelocal; use 'true', 'false', a hop count or a comma-separated list`,
  });
  return z.NEVER;
});

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
/** An empty (or blank) variable counts as unset. */
const unsetIfBlank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalUrl = z.preprocess(unsetIfBlank, z.url().optional());

/**
 * Every environment variable Parley reads, with its default. README.md's configuration
 * table mirrors this schema (a test checks that each variable is documented).
 */
const envSchema = z.object({
  /** @default 'development' */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** HTTP + Socket.IO port. 0 picks a free port. @default 3000 */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** @default '0.0.0.0' */
  HOST: z.string().default('0.0.0.0'),
  /** This node's id in the cluster. @default '<hostname>-<pid>' */
  NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/)
    .optional(),
  /** PostgreSQL URL; unset = embedded PostgreSQL (PGlite) under DATA_DIR. */
  DATABASE_URL: optionalUrl,
  /** Connections in this node's PostgreSQL pool. @default 10 */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /** Longest wait for a PostgreSQL connection (a new one, or a free one of the pool). @default 2000 */
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(2000),
  /** PostgreSQL's statement_timeout: the server cancels a statement that runs longer. @default 2500 */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(2500),
  /** The client gives up on a query unanswered this long (a server that stopped answering). @default 3000 */
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(3000),
  /** Messages (and user look-ups) that may wait for the database; beyond that `unavailable` at once. @default 5000 */
  WRITE_QUEUE_MAX: z.coerce.number().int().min(1).max(1_000_000).default(5000),
  /** Longest a message (or user look-up) waits for the database before it is answered `unavailable`. @default 5000 */
  WRITE_WAIT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /**
   * How long an idle message writer waits for more messages before it writes (one commit for
   * all): less database CPU per message for up to that much latency. @default 0
   */
  WRITE_LINGER_MS: z.coerce.number().int().min(0).max(1000).default(0),
  /** Folder for the embedded database. @default './.data' */
  DATA_DIR: z.string().default('.data'),
  /** Redis URL; unset (and no REDIS_CLUSTER_NODES) = single node with the in-memory adapter. */
  REDIS_URL: optionalUrl,
  /** A Redis Cluster instead of one Redis: some of its nodes, `host:port` comma separated (the rest are discovered). */
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^\s:,]+:\d{1,5}(,[^\s:,]+:\d{1,5})*$/, 'host:port[,host:port...]')
    .transform((list) =>
      list.split(',').map((address) => {
        const [host, port] = address.split(':');
        return { host: host!, port: Number(port) };
      }),
    )
    .optional(),
  /** Longest a Redis command (presence, publish, readiness) waits for its answer. @default 2000 */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(2000),
  /** 'sharded' (SPUBLISH, Redis 7) or 'classic' (PUBLISH) Redis adapter. @default 'sharded' */
  REDIS_ADAPTER: z.enum(['sharded', 'classic']).default('sharded'),
  /** Prefix of every Redis key and Pub/Sub channel Parley uses (several clusters can share a Redis). @default 'parley' */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,32}$/)
    .default('parley'),
  /** HS256 secret; required when NODE_ENV=production (32+ characters, not a placeholder); otherwise generated per DATA_DIR. */
  JWT_SECRET: z.string().min(16).optional(),
  /** Token lifetime (e.g. '15m', '12h', '7d'). @default '12h' */
  JWT_EXPIRES_IN: z
    .string()
    .regex(/^\d+[smhd]$/)
    .default('12h'),
  /** CORS origins, comma separated, or '*'. @default 'http://localhost:3000' */
  CLIENT_URL: z.string().default('http://localhost:3000'),
  /** pino level. @default 'info' */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Human-readable logs (pino-pretty) instead of JSON lines. @default false */
  LOG_PRETTY: bool.default(false),
  /** Largest Socket.IO packet in bytes (Engine.IO maxHttpBufferSize). @default 65536 */
  MAX_HTTP_BUFFER_SIZE: z.coerce.number().int().min(4096).max(10_000_000).default(65_536),
  /** Sustained chat/private/broadcast messages per second allowed per socket. @default 10 */
  RATE_LIMIT_PER_SEC: z.coerce.number().positive().default(10),
  /** Burst size of that per-socket limit. @default 20 */
  RATE_LIMIT_BURST: z.coerce.number().int().positive().default(20),
  /**
   * Proxies whose X-Forwarded-For is believed (Fastify trustProxy): addresses / CIDRs, a hop
   * count, 'true' or 'false'. @default '127.0.0.1,::1' (nginx on the same host)
   */
  TRUST_PROXY: trustProxy.default(['127.0.0.1', '::1']),
  /** HTTP requests per minute per client address, every route. @default 1000 */
  HTTP_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(1).default(1000),
  /** Login + registration attempts per client address per AUTH_RATE_LIMIT_WINDOW_SEC. @default 60 */
  AUTH_RATE_LIMIT_PER_IP: z.coerce.number().int().min(1).default(60),
  /** Login attempts (and registrations) per username per AUTH_RATE_LIMIT_WINDOW_SEC. @default 10 */
  AUTH_RATE_LIMIT_PER_USERNAME: z.coerce.number().int().min(1).default(10),
  /** Window of the two auth limits, in seconds. @default 900 */
  AUTH_RATE_LIMIT_WINDOW_SEC: z.coerce.number().int().min(1).max(86_400).default(900),
  /** Chat, private and 'message' events and post writes per user (all sockets, all nodes) per USER_RATE_LIMIT_WINDOW_SEC. @default 200 */
  USER_RATE_LIMIT: z.coerce.number().int().min(1).default(200),
  /** Window of the per-user budget, in seconds. @default 10 */
  USER_RATE_LIMIT_WINDOW_SEC: z.coerce.number().int().min(1).max(86_400).default(10),
  /** Password hashes (scrypt) computed at once; the rest wait in a queue. @default 2 */
  SCRYPT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Password hashes that may wait; beyond that a request is refused at once (503). @default 32 */
  SCRYPT_QUEUE_MAX: z.coerce.number().int().min(0).max(10_000).default(32),
  /** scrypt cost N (power of two). @default 16384 */
  SCRYPT_COST: z.coerce
    .number()
    .int()
    .min(1024)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
    .default(16_384),
  /** Admin account created or updated at start when both are set. */
  ADMIN_USERNAME: usernameSchema.optional(),
  ADMIN_PASSWORD: passwordSchema.optional(),
  /** Seconds a node's presence survives without a heartbeat. @default 6 */
  PRESENCE_TTL_SEC: z.coerce.number().int().min(2).max(300).default(6),
  /** Names a `roomUsers` (and the join ack) lists at most: the room's first arrivals. @default 1000 */
  ROOM_USERS_MAX: z.coerce.number().int().min(1).max(5000).default(1000),
  /** Rooms with more users than this get their roomUsers and join/leave announcements coalesced. @default 100 */
  ROOM_COALESCE_ABOVE: z.coerce.number().int().min(0).default(100),
  /** Window of that coalescing: at most one roomUsers (and one summary message) per room per window. @default 1000 */
  ROOM_COALESCE_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
  /** Upper bound for a graceful shutdown in ms. @default 8000 */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8000),
  /** Unread notifications sent on a '/notifications' connect (the newest; the rest through GET /notifications). @default 100 */
  NOTIFICATION_BACKLOG_MAX: z.coerce.number().int().min(1).max(1000).default(100),
  /** Followers notified per fan-out batch (one INSERT … SELECT each). @default 2000 */
  FANOUT_BATCH_SIZE: z.coerce.number().int().min(1).max(50_000).default(2000),
  /** A fan-out job claimed longer ago than this (its node died) is taken over. @default 30000 */
  FANOUT_STALE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** How often each node looks for stale fan-out jobs. @default 10000 */
  FANOUT_SWEEP_MS: z.coerce.number().int().min(50).max(3_600_000).default(10_000),
  /** Apply migrations at start. @default true */
  MIGRATE_ON_START: bool.default(true),
  /** Folder of the built web app (index.html, console/, assets/). @default the @parley/web package's dist/ */
  WEB_ROOT: z.preprocess(unsetIfBlank, z.string().optional()),
  /** Serve Prometheus metrics at GET /metrics (and count them). @default true */
  METRICS_ENABLED: bool.default(true),
  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`; empty = unset. */
  METRICS_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(16).max(256).optional()),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  nodeId: string;
  database: {
    url: string | undefined;
    poolSize: number;
    dataDir: string;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    queryTimeoutMs: number;
  };
  /** The queue of messages and user look-ups waiting for the database. */
  writeQueue: { maxPending: number; maxWaitMs: number };
  /** The message writer's linger (WRITE_LINGER_MS). */
  messageLingerMs: number;
  /** Redis: one server (`url`), a cluster (`clusterNodes`) or none (both unset). */
  redis: {
    url: string | undefined;
    clusterNodes: { host: string; port: number }[] | undefined;
    adapter: Env['REDIS_ADAPTER'];
    keyPrefix: string;
    commandTimeoutMs: number;
  };
  jwt: { secret: string; expiresIn: string };
  corsOrigin: string | string[];
  log: { level: Env['LOG_LEVEL']; pretty: boolean };
  socket: { maxHttpBufferSize: number };
  rateLimit: { perSecond: number; burst: number };
  /** Fastify `trustProxy`: which peers' X-Forwarded-For names the client. */
  trustProxy: boolean | number | string[];
  limits: {
    /** Requests per minute per client address, every HTTP route. */
    httpPerMinute: number;
    /** Login and registration attempts per client address, and per username, in `windowSec`. */
    auth: { perIp: number; perUsername: number; windowSec: number };
    /** Chat / private / 'message' events and post writes per user in `windowSec`, cluster-wide. */
    user: { points: number; windowSec: number };
    /** Password hashes at once, and waiting. */
    passwords: { concurrency: number; queueMax: number };
  };
  scryptCost: number;
  admin: { username: string; password: string } | undefined;
  presenceTtlSec: number;
  /** roomUsers size, and when / how often big rooms' presence changes go out (coalesced). */
  rooms: { usersMax: number; coalesceAbove: number; coalesceMs: number };
  shutdownTimeoutMs: number;
  migrateOnStart: boolean;
  fanout: { batchSize: number; staleMs: number; sweepMs: number };
  /** Unread notifications sent on connect (the newest). */
  notificationBacklogMax: number;
  /** The built web app: an absolute folder, or undefined for the @parley/web package's dist/. */
  webRoot: string | undefined;
  /** Prometheus metrics at GET /metrics: served or not, and the bearer token it requires (if any). */
  metrics: { enabled: boolean; token: string | undefined };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Environment variable names Parley reads. */
export const ENV_VARS = Object.keys(envSchema.shape) as (keyof Env)[];

/**
 * Validate the environment once, at start. Throws ConfigError listing every bad variable.
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  const secretProblem = env.NODE_ENV === 'production' ? productionSecretProblem(env.JWT_SECRET) : undefined;
  if (secretProblem) throw new ConfigError(`Invalid configuration:\n  JWT_SECRET: ${secretProblem}`);
  if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
    throw new ConfigError(
      'Invalid configuration:\n  REDIS_URL and REDIS_CLUSTER_NODES: set one (a single Redis or a Redis Cluster), not both',
    );
  }
  if (env.DATABASE_QUERY_TIMEOUT_MS < env.DATABASE_STATEMENT_TIMEOUT_MS) {
    // The server's cancel (a clean error, the connection kept) should come before the client gives up.
    throw new ConfigError('Invalid configuration:\n  DATABASE_QUERY_TIMEOUT_MS must not be below DATABASE_STATEMENT_TIMEOUT_MS');
  }
  if (env.METRICS_TOKEN && !env.METRICS_ENABLED) {
    throw new ConfigError('Invalid configuration:\n  METRICS_TOKEN is set but METRICS_ENABLED=false: nothing would use it');
  }
  if (Boolean(env.ADMIN_USERNAME) !== Boolean(env.ADMIN_PASSWORD)) {
    throw new ConfigError('Invalid configuration:\n  ADMIN_USERNAME and ADMIN_PASSWORD go together');
  }
  const dataDir = resolve(env.DATA_DIR);
  const origins = env.CLIENT_URL.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return Object.freeze({
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    nodeId: env.NODE_ID ?? `${hostname()}-${process.pid}`,
    database: {
      url: env.DATABASE_URL,
      poolSize: env.DATABASE_POOL_SIZE,
      dataDir,
      connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      queryTimeoutMs: env.DATABASE_QUERY_TIMEOUT_MS,
    },
    writeQueue: { maxPending: env.WRITE_QUEUE_MAX, maxWaitMs: env.WRITE_WAIT_MS },
    messageLingerMs: env.WRITE_LINGER_MS,
    redis: {
      url: env.REDIS_URL,
      clusterNodes: env.REDIS_CLUSTER_NODES,
      adapter: env.REDIS_ADAPTER,
      keyPrefix: env.REDIS_KEY_PREFIX,
      commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    },
    jwt: { secret: env.JWT_SECRET ?? developmentSecret(dataDir), expiresIn: env.JWT_EXPIRES_IN },
    corsOrigin: origins.length === 1 && origins[0] === '*' ? '*' : origins,
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY },
    socket: { maxHttpBufferSize: env.MAX_HTTP_BUFFER_SIZE },
    rateLimit: { perSecond: env.RATE_LIMIT_PER_SEC, burst: env.RATE_LIMIT_BURST },
    trustProxy: env.TRUST_PROXY,
    limits: {
      httpPerMinute: env.HTTP_RATE_LIMIT_PER_MIN,
      auth: { perIp: env.AUTH_RATE_LIMIT_PER_IP, perUsername: env.AUTH_RATE_LIMIT_PER_USERNAME, windowSec: env.AUTH_RATE_LIMIT_WINDOW_SEC },
      user: { points: env.USER_RATE_LIMIT, windowSec: env.USER_RATE_LIMIT_WINDOW_SEC },
      passwords: { concurrency: env.SCRYPT_CONCURRENCY, queueMax: env.SCRYPT_QUEUE_MAX },
    },
    scryptCost: env.SCRYPT_COST,
    admin: env.ADMIN_USERNAME && env.ADMIN_PASSWORD ? { username: env.ADMIN_USERNAME, password: env.ADMIN_PASSWORD } : undefined,
    presenceTtlSec: env.PRESENCE_TTL_SEC,
    rooms: { usersMax: env.ROOM_USERS_MAX, coalesceAbove: env.ROOM_COALESCE_ABOVE, coalesceMs: env.ROOM_COALESCE_MS },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    migrateOnStart: env.MIGRATE_ON_START,
    fanout: { batchSize: env.FANOUT_BATCH_SIZE, staleMs: env.FANOUT_STALE_MS, sweepMs: env.FANOUT_SWEEP_MS },
    notificationBacklogMax: env.NOTIFICATION_BACKLOG_MAX,
    webRoot: env.WEB_ROOT === undefined ? undefined : resolve(env.WEB_ROOT),
    metrics: { enabled: env.METRICS_ENABLED, token: env.METRICS_TOKEN },
  });
}
