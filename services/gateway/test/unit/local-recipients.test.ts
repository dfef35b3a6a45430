import { describe, expect, it } from 'vitest';
import { localRecipients } from '../../src/metrics/socket-metrics.ts';

/** An adapter's membership: sockets s1…s4 (each in its own room), rooms a (s1 s2 s3) and b (s3 s4). */
function adapter() {
  const rooms = new Map<string, Set<string>>([
    ['a', new Set(['s1', 's2', 's3'])],
    ['b', new Set(['s3', 's4'])],
  ]);
  const sids = new Map<string, Set<string>>();
  for (const id of ['s1', 's2', 's3', 's4']) {
    rooms.set(id, new Set([id]));
    sids.set(id, new Set([id, ...[...rooms].filter(([name, members]) => name.length === 1 && members.has(id)).map(([name]) => name)]));
  }
  return { rooms, sids };
}

const set = (...items: string[]) => new Set(items);

describe('localRecipients: the sockets of this node a broadcast reaches', () => {
  it.each([
    ['one room', set('a'), undefined, 3],
    ['one room, the sender excluded (socket.to)', set('a'), set('s1'), 2],
    ['one room, a socket of another room excluded', set('a'), set('s4'), 3],
    ['every socket (io.emit)', set(), undefined, 4],
    ['every socket but the sender (socket.broadcast)', set(), set('s2'), 3],
    ['a room nobody here is in', set('nowhere'), undefined, 0],
    ['an exclusion that names no room here', set('a'), set('gone'), 3],
    ['two rooms, a socket in both counted once', set('a', 'b'), undefined, 4],
    ['two rooms, one excluded by id', set('a', 'b'), set('s3'), 3],
    ['one room, another room excluded', set('a'), set('b'), 2],
    ['every socket, a room excluded', set(), set('a'), 1],
  ])('%s', (_what, rooms, except, expected) => {
    expect(localRecipients(adapter(), rooms, except)).toBe(expected);
  });
});
