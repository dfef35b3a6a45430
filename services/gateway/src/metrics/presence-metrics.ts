import type { Presence } from '../presence/presence.ts';
import type { Metrics, PresenceOp } from './metrics.ts';

/** `presence` with each operation counted by name and outcome (parley_presence_operations_total). */
export function countedPresence(presence: Presence, metrics: Metrics): Presence {
  const cells = (op: PresenceOp) => ({ ok: metrics.presenceOps.cell(op, 'ok'), error: metrics.presenceOps.cell(op, 'error') });
  const counted = <A extends unknown[], R>(op: PresenceOp, run: (...args: A) => Promise<R>) => {
    const outcome = cells(op);
    return async (...args: A): Promise<R> => {
      try {
        const result = await run(...args);
        outcome.ok.value++;
        return result;
      } catch (err) {
        outcome.error.value++;
        throw err;
      }
    };
  };
  return {
    start: () => presence.start(),
    join: counted('join', (room, member) => presence.join(room, member)),
    leave: counted('leave', (room, member) => presence.leave(room, member)),
    users: counted('users', (room) => presence.users(room)),
    flush: counted('flush', (room, windowMs) => presence.flush(room, windowMs)),
    onEviction: (listener) => presence.onEviction(listener),
    setConnections: (count) => presence.setConnections(count),
    stats: counted('stats', () => presence.stats()),
    listRooms: counted('list_rooms', (after, limit) => presence.listRooms(after, limit)),
    withdraw: counted('withdraw', () => presence.withdraw()),
    close: () => presence.close(),
  };
}
