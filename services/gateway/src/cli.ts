import pino from 'pino';
import { ConfigError, loadConfig, type Config } from '@parley/config';
import { createRepositories, openDatabase, type Database } from '@parley/db';
import { idParamSchema, notificationMessageSchema, ParleyError, passwordSchema, roleSchema, usernameSchema } from '@parley/protocol';
import { ensureAdmin } from './domain/admin.ts';
import { createPasswordHasher } from './domain/passwords.ts';
import { notificationBus, RedisBusSink } from './notifications/redis-notification-bus.ts';
import { Notifier } from './notifications/notifier.ts';
import { parse } from './domain/validation.ts';
import { createRedisClient, type RedisClient } from './pubsub/redis-client.ts';
import { revocationChannel } from './pubsub/revocations.ts';

const USAGE = `usage: pnpm cli <command>
  migrate                         apply pending migrations (DATABASE_URL, or the embedded database)
  create-admin [username]         create an admin, or reset an admin's password: the username from the
                                  argument or ADMIN_USERNAME, the password from ADMIN_PASSWORD or standard
                                  input (never from the command line); an existing non-admin is refused
  set-role <username> <user|admin>
                                  change an account's role: its tokens are revoked and, with REDIS_URL, its
                                  live sockets closed on every node within 2 s (the user logs in again)
  notify <userId> <message>       store a 'system' notification and, with REDIS_URL, deliver it live`;

type Command = (config: Readonly<Config>, db: Database, args: string[]) => Promise<object>;

/** Commands and the most arguments each takes (a password never comes on argv: `ps` shows it). */
const MAX_ARGS: Record<string, number> = { migrate: 0, 'create-admin': 1, 'set-role': 2, notify: Infinity };

/** Redis for a command that reaches the running nodes (undefined without REDIS_URL), quit after `use`. */
async function withRedis<T>(config: Readonly<Config>, use: (redis: RedisClient | undefined) => Promise<T>): Promise<T> {
  const redis = createRedisClient(config.redis);
  try {
    return await use(redis);
  } finally {
    await redis?.quit();
  }
}

/** The first line of standard input (a password piped in, or typed). */
async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text.split(/\r?\n/)[0] ?? '';
}

const commands: Record<string, Command> = {
  async migrate(_config, db) {
    return db.migrate();
  },

  async 'create-admin'(config, db, [username]) {
    const credentials = config.admin ?? { username: username ?? '', password: await readStdin() };
    const admin = await ensureAdmin(
      createRepositories(db).users,
      { username: parse(usernameSchema, credentials.username), password: parse(passwordSchema, credentials.password) },
      createPasswordHasher({ cost: config.scryptCost, ...config.limits.passwords }),
    );
    return { admin };
  },

  async 'set-role'(config, db, [username, role]) {
    const result = await createRepositories(db).users.setRole(parse(usernameSchema, username), parse(roleSchema, role));
    if (!result) throw new ParleyError('not_found', `No user "${username}"`);
    const { account, changed } = result;
    if (changed) {
      await withRedis(config, (redis) =>
        redis
          ? revocationChannel(config.redis.keyPrefix).publish(redis, { userId: account.user.id, version: account.tokenVersion })
          : Promise.resolve(),
      );
    }
    return { user: account.user, tokensRevoked: changed };
  },

  async notify(config, db, [userId, ...words]) {
    const recipientId = parse(idParamSchema, userId);
    const message = parse(notificationMessageSchema, words.join(' '));
    return withRedis(config, async (redis) => {
      const sink = redis ? new RedisBusSink(redis, notificationBus(config.redis.keyPrefix)) : { deliver: async () => {} };
      const notifier = new Notifier(createRepositories(db).notifications, sink);
      const notification = await notifier.notifyUser(recipientId, { type: 'system', message, data: {} });
      return { notification, delivered: redis ? 'live (Redis bus)' : 'stored; sent when the user next connects' };
    });
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  const command = name === undefined ? undefined : commands[name];
  if (!command || args.length > (MAX_ARGS[name!] ?? 0)) {
    if (name === 'create-admin')
      process.stderr.write('create-admin: the password is read from ADMIN_PASSWORD or standard input, never from the command line\n');
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const config = loadConfig(process.env);
  const log = pino({ level: config.log.level }, pino.destination(2));
  const db = await openDatabase(config.database);
  try {
    if (name !== 'migrate' && config.migrateOnStart) await db.migrate();
    const result = await command(config, db, args);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ParleyError) {
      process.stderr.write(`${name}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    log.error({ err, command: name }, 'command failed');
    return 1;
  } finally {
    await db.close();
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exitCode = 1;
}
