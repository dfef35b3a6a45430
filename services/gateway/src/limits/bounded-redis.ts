import type { RedisClient } from '../pubsub/redis-client.ts';

type Callback = (err: Error | null, result?: unknown) => void;
type Command = (...args: unknown[]) => Promise<unknown>;

export interface BoundedCommands {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  [command: string]: unknown;
}

export interface CommandHealth {
  /** A command failed or timed out. */
  failed(err: Error): void;
  /** A command was answered. */
  answered(): void;
}

/**
 * The part of an ioredis client that @fastify/rate-limit's RedisStore uses (`defineCommand`,
 * then the Lua command it defined, called with a callback), over `client` with every wait
 * bounded: while the connection is not ready a command fails at once (ioredis would queue it
 * until Redis is back), otherwise after `timeoutMs` without an answer. The node's own connection
 * keeps its queueing for everything else (broadcasts, presence).
 */
export function boundedCommands(client: RedisClient, timeoutMs: number, health: CommandHealth): BoundedCommands {
  const commands: BoundedCommands = {
    defineCommand(name, definition) {
      client.defineCommand(name, definition);
      const command = (client as unknown as Record<string, Command>)[name] as Command;
      commands[name] = (...args: unknown[]) => {
        const callback = args.pop() as Callback;
        if (client.status !== 'ready') {
          const err = new Error(`redis is ${client.status}`);
          health.failed(err);
          callback(err);
          return;
        }
        let settled = false;
        const settle = (err: Error | null, result?: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) health.failed(err);
          else health.answered();
          callback(err, result);
        };
        const timer = setTimeout(() => settle(new Error(`no answer from redis within ${timeoutMs} ms`)), timeoutMs);
        command.apply(client, args).then(
          (result) => settle(null, result),
          (err: unknown) => settle(err instanceof Error ? err : new Error(String(err))),
        );
      };
    },
  };
  return commands;
}
