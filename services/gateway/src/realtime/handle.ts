import type { z } from 'zod';
import {
  EVENTS,
  ParleyError,
  type ErrorBody,
  type HandlerResult,
  type Inbound,
  type InboundEvent,
  type InboundName,
  type NamespaceName,
} from '@parley/protocol';
import { toParleyError } from '../domain/errors.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenBucket } from '../domain/token-bucket.ts';
import { parse } from '../domain/validation.ts';
import type { UserBudget } from '../limits/user-budget.ts';
import type { AnySocket } from './types.ts';
type Ack = (response: object) => void;

/** The validated payload of event `E` (undefined for an event whose only argument is its ack). */
export type PayloadOf<N extends NamespaceName, E extends InboundName<N>> = Inbound<N>[E] extends { payload: infer P extends z.ZodType }
  ? z.output<P>
  : undefined;

export interface HandlerOptions {
  /** Bucket charged before the handler runs; empty bucket -> 'rate_limited'. */
  bucket?: () => TokenBucket;
  /** The user's budget, spent after the bucket and the payload's validation; none left -> 'rate_limited'. */
  budget?: UserBudget;
}

/**
 * Per socket: the admission of its latest event that still waits for the user's budget (an
 * asynchronous check, in Redis). Every later event of that socket starts its handler after it, so
 * handlers start in the order the events arrived whatever each one waited for: a chatMessage
 * followed by a leaveRoom is stored before the socket leaves. Refusals (bucket, payload) answer
 * at once: they change nothing, so answering them first reorders nothing that matters, and each
 * queued event holds a bucket token, which bounds the queue.
 */
const admissions = new WeakMap<object, Promise<void>>();

function inOrder(socket: object, start: () => Promise<void> | void): void {
  const previous = admissions.get(socket);
  const admitted = previous ? previous.then(start) : start();
  if (!admitted) return;
  admissions.set(socket, admitted);
  void admitted.then(() => {
    if (admissions.get(socket) === admitted) admissions.delete(socket);
  });
}

/** Per socket: events accepted whose answer (ack or 'error' event) is not sent yet. */
const unanswered = new WeakMap<object, Set<Promise<void>>>();

/** Count an accepted event of `socket` as unanswered; call the returned function once answered. */
function expectAnswer(socket: object): () => void {
  let pending = unanswered.get(socket);
  if (!pending) unanswered.set(socket, (pending = new Set()));
  let done!: () => void;
  const answered = new Promise<void>((resolve) => (done = resolve));
  pending.add(answered);
  void answered.then(() => pending.delete(answered));
  return done;
}

/**
 * Resolves once every event `socket` sent so far has been answered (its ack or error sent); each
 * handler's waits are bounded, so this is too. The shutdown awaits it before closing transports.
 */
export async function allAnswered(socket: object): Promise<void> {
  await Promise.all([...(unanswered.get(socket) ?? new Set<Promise<void>>())]);
}

export type Handler<N extends NamespaceName, E extends InboundName<N>> = (
  payload: PayloadOf<N, E>,
) => Promise<HandlerResult<N, E>> | HandlerResult<N, E>;

/**
 * The handler registrar of one socket on namespace `namespace`. `on(event, handler)` parses
 * the payload with the event's schema from the contract (`EVENTS`); the handler's result,
 * which the compiler checks against the event's ack, becomes the ack `{ ok: true, ...result }`;
 * a ParleyError becomes `{ ok: false, error }` (or an 'error' event when the client gave no
 * ack). Nothing a client sends can throw past this point.
 *
 * @example
 * const on = eventHandlers(socket, log, '/');
 * on('chatMessage', { bucket }, async (payload) => ({ id: await store(payload) }));
 */
export function eventHandlers<N extends NamespaceName>(socket: AnySocket, log: FastifyBaseLogger, namespace: N) {
  const inbound: Record<string, InboundEvent> = EVENTS[namespace].inbound;
  return function on<E extends InboundName<N>>(event: E, options: HandlerOptions, handler: Handler<N, E>): void {
    const name: string = event;
    const schema = inbound[name]?.payload ?? null;
    socket.on(name, (...args: unknown[]) => {
      const last = args[args.length - 1];
      const ack = typeof last === 'function' ? (args.pop() as Ack) : undefined;
      const fail = (err: unknown) => {
        const body: ErrorBody = toParleyError(err).toBody();
        if (!(err instanceof ParleyError)) {
          const context = { err, event: name, code: body.code, socketId: socket.id, userId: socket.data.user.id };
          if (body.code === 'unavailable') log.warn(context, 'socket handler: a dependency is unavailable');
          else log.error(context, 'socket handler failed');
        }
        if (ack) ack({ ok: false, error: body });
        else socket.emit('error', body);
      };
      let payload: PayloadOf<N, E>;
      try {
        if (options.bucket && !options.bucket().take()) throw new ParleyError('rate_limited');
        payload = (schema === null ? undefined : parse(schema, args[0])) as PayloadOf<N, E>;
      } catch (err) {
        fail(err);
        return;
      }
      const answered = expectAnswer(socket);
      const run = () => {
        try {
          const result = handler(payload);
          if (result instanceof Promise) {
            result.then((value) => ack?.(Object.assign({ ok: true }, value)), fail).finally(answered);
          } else {
            ack?.(Object.assign({ ok: true }, result));
            answered();
          }
        } catch (err) {
          fail(err);
          answered();
        }
      };
      const refused = (err: unknown) => {
        fail(err);
        answered();
      };
      const budget = options.budget;
      inOrder(socket, budget ? () => budget.spend(socket.data.user.id).then(run, refused) : run);
    });
  };
}
