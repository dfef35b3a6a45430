import { describe, expect, it } from 'vitest';
import { MemoryPresence } from '../../src/presence/memory-presence.ts';

const alice = (socketId: string) => ({ socketId, userId: 1, username: 'alice' });
const bob = (socketId: string) => ({ socketId, userId: 2, username: 'bob' });

describe('MemoryPresence', () => {
  it('lists each user once, in arrival order; only the first socket changes the list', async () => {
    const presence = new MemoryPresence('solo');
    const small = { room: 'r', coalesced: false };
    expect(await presence.join('r', alice('a1'))).toEqual({ ...small, users: ['alice'], count: 1, changed: true });
    expect(await presence.join('r', bob('b1'))).toEqual({ ...small, users: ['alice', 'bob'], count: 2, changed: true });
    expect(await presence.join('r', alice('a2'))).toEqual({ ...small, users: ['alice', 'bob'], count: 2, changed: false });
    expect(await presence.join('r', alice('a2'))).toMatchObject({ changed: false });
  });

  it('only the last socket of a user leaving changes the list', async () => {
    const presence = new MemoryPresence('solo');
    await presence.join('r', alice('a1'));
    await presence.join('r', alice('a2'));
    await presence.join('r', bob('b1'));
    expect(await presence.leave('r', alice('a1'))).toEqual({
      room: 'r',
      users: ['alice', 'bob'],
      count: 2,
      changed: false,
      coalesced: false,
    });
    expect(await presence.leave('r', alice('a2'))).toEqual({ room: 'r', users: ['bob'], count: 1, changed: true, coalesced: false });
    expect(await presence.users('r')).toEqual({ room: 'r', users: ['bob'], count: 1 });
  });

  it('ignores leaves of sockets that never joined, and of unknown rooms', async () => {
    const presence = new MemoryPresence('solo');
    await presence.join('r', alice('a1'));
    expect(await presence.leave('r', alice('zz'))).toEqual({ room: 'r', users: ['alice'], count: 1, changed: false, coalesced: false });
    expect(await presence.leave('nowhere', alice('a1'))).toEqual({
      room: 'nowhere',
      users: [],
      count: 0,
      changed: false,
      coalesced: false,
    });
  });

  it('counts rooms with members and forgets empty ones', async () => {
    const presence = new MemoryPresence('solo');
    await presence.join('r1', alice('a1'));
    await presence.join('r2', alice('a1'));
    expect((await presence.stats()).rooms).toBe(2);
    await presence.leave('r1', alice('a1'));
    expect((await presence.stats()).rooms).toBe(1);
    expect(await presence.users('r1')).toEqual({ room: 'r1', users: [], count: 0 });
    await presence.close();
    expect((await presence.stats()).rooms).toBe(0);
  });

  it('reports this node alone in stats; withdraw empties it', async () => {
    const presence = new MemoryPresence('solo');
    await presence.join('r1', alice('a1'));
    presence.setConnections(3);
    expect(await presence.stats()).toEqual({ nodes: [{ nodeId: 'solo', connections: 3 }], connections: 3, rooms: 1 });
    expect(await presence.withdraw()).toEqual([]);
    expect((await presence.stats()).rooms).toBe(0);
  });

  it('lists the first usersMax arrivals with the true count; changes above coalesceAbove are summed until a flush, once per window', async () => {
    const presence = new MemoryPresence('solo', { usersMax: 2, coalesceAbove: 2 });
    const user = (i: number) => ({ socketId: `s${i}`, userId: i, username: `u${i}` });
    await presence.join('r', user(1));
    expect(await presence.join('r', user(2))).toMatchObject({ users: ['u1', 'u2'], count: 2, coalesced: false });
    expect(await presence.join('r', user(3))).toEqual({ room: 'r', users: ['u1', 'u2'], count: 3, changed: true, coalesced: true });
    expect(await presence.join('r', user(4))).toMatchObject({ count: 4, coalesced: true });
    expect(await presence.flush('r', 60_000)).toEqual({ kind: 'send', joined: 2, left: 0, room: 'r', users: ['u1', 'u2'], count: 4 });
    expect(await presence.flush('r', 60_000)).toEqual({ kind: 'idle' });
    // Leaving a room of 3 (more than 2 before the change) is coalesced too.
    await presence.leave('r', user(1));
    expect(await presence.leave('r', user(4))).toEqual({ room: 'r', users: [], count: 2, changed: true, coalesced: true });
    expect(await presence.flush('r', 60_000)).toMatchObject({ kind: 'wait', ms: expect.any(Number) });
    expect(await presence.leave('r', user(2))).toMatchObject({ count: 1, changed: true, coalesced: false });
  });
});
