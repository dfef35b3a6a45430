import type { Socket } from 'socket.io';
import type { z } from 'zod';
import { ParleyError, type ErrorBody } from '@parley/protocol';
import { toParleyError } from '../errors.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenBucket } from '../domain/token-bucket.ts';
import { parse } from '../validation.ts';
import type { ServerSocketData } from './types.ts';

type AnySocket = Socket<Record<string, (...args: unknown[]) => void>, { error: (e: ErrorBody) => void }, Record<string, never>, ServerSocketData>;
type Ack = (response: object) => void;

export interface HandlerOptions<S extends z.ZodType> {
  schema: S;
  /** Bucket charged before the handler runs; empty bucket -> 'rate_limited'. */
  bucket?: (socket: AnySocket) => TokenBucket;
}

/**
 * Register a validated event handler. The payload is parsed with `schema`; the handler's
 * result becomes the ack `{ ok: true, ...result }`; a ParleyError becomes
 * `{ ok: false, error }` (or an 'error' event when the client gave no ack). Nothing a
 * client sends can throw past this point.
 */
export function handle<S extends z.ZodType, R extends object | void>(
  socket: AnySocket,
  log: FastifyBaseLogger,
  event: string,
  options: HandlerOptions<S>,
  handler: (payload: z.output<S>) => Promise<R> | R,
): void {
  socket.on(event, (...args: unknown[]) => {
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (args.pop() as Ack) : undefined;
    const fail = (err: unknown) => {
      const body: ErrorBody = toParleyError(err).toBody();
      if (!(err instanceof ParleyError)) {
        const context = { err, event, code: body.code, socketId: socket.id, userId: socket.data.user.id };
        if (body.code === 'unavailable') log.warn(context, 'socket handler: a dependency is unavailable');
        else log.error(context, 'socket handler failed');
      }
      if (ack) ack({ ok: false, error: body });
      else socket.emit('error', body);
    };
    try {
      if (options.bucket && !options.bucket(socket).take()) throw new ParleyError('rate_limited');
      const payload = parse(options.schema, args[0]);
      const result = handler(payload);
      if (result instanceof Promise) {
        result.then((value) => ack?.({ ok: true, ...value }), fail);
      } else {
        ack?.({ ok: true, ...result });
      }
    } catch (err) {
      fail(err);
    }
  });
}
