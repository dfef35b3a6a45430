import pino, { type Logger } from 'pino';
import type { Config } from '@parley/config';

/** One JSON object a line; pino-pretty only when LOG_PRETTY=true. Passwords and tokens never logged. */
export function createLogger(config: Pick<Config, 'log' | 'nodeId'>): Logger {
  return pino({
    level: config.log.level,
    base: { nodeId: config.nodeId },
    redact: { paths: ['password', '*.password', 'token', '*.token', 'req.headers.authorization'], censor: '[redacted]' },
    ...(config.log.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
