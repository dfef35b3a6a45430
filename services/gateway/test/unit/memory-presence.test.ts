import { describe, expect, it } from 'vitest';
import { MemoryPresence } from '../../src/presence/memory-presence.ts';

const alice = (socketId: string) => ({ socketId, userId: 1, username: 'alice' });
const bob = (socketId: string) => ({ socketId, userId: 2, username: 'bob' });

describe('MemoryPresence', () => {
  it('lists each user once, in arrival order; only the first socket changes the list', async () => {
    const presence = new MemoryPresence('solo');
    expect(await presence.join('r', alice('a1'))).toEqual({ room: 'r', users: ['alice'], changed: true });
    expect(await presence.join('r', bob('b1'))).toEqual({ room: 'r', users: ['alice', 'bob'], changed: true });
    expect(await presence.join('r', alice('a2'))).toEqual({ room: 'r', users: ['alice', 'bob'], changed: false });
    expect(await presence.join('r', alice('a2'))).toMatchObject({ changed: false });
  });

  it('only the last socket of a user leaving changes the list', async () => {
    const presence = new MemoryPresence('solo');
    await presence.join('r', alice('a1'));
    await presence.join('r', alice('a2'));
    await presence.join('r', bob('b1'));
    expect(await presence.leave('r', alice('a1'))).toEqual({ room: 'r', users: ['alice', 'bob'], changed: false });
    expect(await presence.leave('r', alice('a2'))).toEqual({ room: 'r', users: ['bob'], changed: true });
    expect(await presence.users('r')).toEqual(['bob']);
  });

  it('ignores leaves of sockets that never joined, and of unknown rooms', async () => {
    const presence = new MemoryPresence('solo');
    await presence.join('r', alice('a1'));
    expect(await presence.leave('r', alice('zz'))).toEqual({ room: 'r', users: ['alice'], changed: false });
    expect(await presence.leave('nowhere', alice('a1'))).toEqual({ room: 'nowhere', users: [], changed: false });
  });

  it('counts rooms with members and forgets empty ones', async () => {
    const presence = new MemoryPresence('solo');
    await presence.join('r1', alice('a1'));
    await presence.join('r2', alice('a1'));
    expect((await presence.stats()).rooms).toBe(2);
    await presence.leave('r1', alice('a1'));
    expect((await presence.stats()).rooms).toBe(1);
    expect(await presence.users('r1')).toEqual([]);
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
});
