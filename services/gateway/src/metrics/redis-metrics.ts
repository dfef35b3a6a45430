import type { RedisClient } from '../pubsub/redis-client.ts';
import type { Metrics } from './metrics.ts';

/** What is read of an ioredis Command. */
interface SentCommand {
  name: string;
  args: unknown[];
  promise: Promise<unknown>;
}

/**
 * Count the Socket.IO Redis adapter's traffic at its two connections, for the classic and the
 * sharded adapter alike: every PUBLISH / SPUBLISH of `pub` to a channel under `channelPrefix`
 * (and those that fail), every message `sub` receives on one (Buffer events, which ioredis emits
 * anyway; the notification bus and the revocation channel have other names). One comparison per
 * command and per message.
 */
export function countAdapterTraffic(pub: RedisClient, sub: RedisClient, channelPrefix: string, metrics: Metrics): void {
  const published = metrics.adapterMessages.cell('published');
  const received = metrics.adapterMessages.cell('received');
  const failed = metrics.adapterPublishErrors.cell();
  const prefix = Buffer.from(channelPrefix);
  const isAdapterChannel = (channel: unknown) =>
    typeof channel === 'string'
      ? channel.startsWith(channelPrefix)
      : Buffer.isBuffer(channel) && channel.length >= prefix.length && prefix.compare(channel, 0, prefix.length) === 0;

  const send = pub.sendCommand.bind(pub) as (command: SentCommand, ...rest: unknown[]) => unknown;
  (pub as unknown as { sendCommand: typeof send }).sendCommand = (command, ...rest) => {
    if ((command.name === 'spublish' || command.name === 'publish') && isAdapterChannel(command.args[0])) {
      published.value++;
      command.promise.catch(() => failed.value++);
    }
    return send(command, ...rest);
  };
  const onMessage = (channel: Buffer) => {
    if (isAdapterChannel(channel)) received.value++;
  };
  sub.on('smessageBuffer', onMessage);
  sub.on('messageBuffer', onMessage);
  // Pattern subscriptions (the classic adapter's broadcasts): (pattern, channel, message).
  sub.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer) => onMessage(channel));
}
