import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { READ_STATE_CONVERSATIONS_MAX, UNREAD_COUNT_MAX } from '@parley/protocol';
import { createTestDatabase, type TestDatabase } from '@parley/testkit';
import {
  MessageRepository,
  openDatabase,
  ReadStateRepository,
  type Database,
  type NewPrivateMessage,
  type NewRoomMessage,
} from '../src/index.ts';
import { beforeMigration } from './before-migration.ts';

// Read cursors as the database keeps them, on PostgreSQL and on the embedded PGlite (the default
// mode): created by joins at the room's end, moved only forward and never past the stream's end,
// exact unread counts (others' messages only, capped), the conversation list from the indexes.

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'parley-read-state-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const createdAt = new Date();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.each(['postgres', 'embedded'] as const)('ReadStateRepository on %s', (kind) => {
  let target: TestDatabase | undefined;
  let db: Database;
  let reads: ReadStateRepository;
  let messages: MessageRepository;
  let serial = 0;

  beforeAll(async () => {
    if (kind === 'postgres') target = await createTestDatabase(inject('postgresUrl'));
    db = await openDatabase({ url: target?.url, poolSize: 4, dataDir: await mkdtemp(join(tmp, kind)) });
    expect(db.kind).toBe(kind);
    await db.migrate();
    reads = new ReadStateRepository(db.sql);
    messages = new MessageRepository(db.prisma, db.sql);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  async function users(count: number): Promise<number[]> {
    const rows = await db.sql.query<{ id: number }>(
      `INSERT INTO users (username, password_hash) SELECT 'r' || $1::int || '_' || g, 'x' FROM generate_series(1, $2::int) g RETURNING id`,
      [++serial, count],
    );
    return rows.map((r) => r.id);
  }
  const say = (room: string, authorId: number, count = 1): Promise<unknown> =>
    messages.insertMany(range(1, count).map((i): NewRoomMessage => ({ room, authorId, text: `${authorId}: ${i}`, createdAt })));
  const dm = async (authorId: number, recipientId: number, text = `${authorId}→${recipientId}`) => {
    const [stored] = await messages.insertMany([{ authorId, recipientId, text, createdAt } satisfies NewPrivateMessage]);
    return stored!;
  };
  const room = () => `rs-${kind}-${++serial}`;

  it("a join creates the cursor at the room's last position, once; later joins keep it", async () => {
    const [a, b] = await users(2);
    const r = room();
    await say(r, b!, 3);
    expect(
      await reads.ensureRooms([
        { userId: a!, room: r },
        { userId: b!, room: r },
        { userId: a!, room: r },
      ]),
    ).toEqual([3, 3, null]);
    await say(r, b!, 2);
    expect(await reads.ensureRooms([{ userId: a!, room: r }])).toEqual([null]);
    // An empty room: position 0.
    const empty = room();
    expect(await reads.ensureRooms([{ userId: a!, room: empty }])).toEqual([0]);
    const { rooms } = await reads.state(a!);
    expect(rooms.sort((x, y) => x.room.localeCompare(y.room))).toEqual([
      { room: r, position: 5, readPosition: 3, unread: 2 },
      { room: empty, position: 0, readPosition: 0, unread: 0 },
    ]);
  });

  it('batches sharing cursors, at once and in any order, do not deadlock; each cursor is created once', async () => {
    const people = await users(6);
    const rooms = range(1, 6).map(() => room());
    const entries = people.flatMap((userId) => rooms.map((r) => ({ userId, room: r })));
    const batches = range(0, 9).map((i) => (i % 2 === 0 ? entries : [...entries].reverse()));
    const results = await Promise.all(batches.map((batch) => reads.ensureRooms(batch)));
    const created = new Map<string, number>();
    batches.forEach((batch, b) =>
      batch.forEach((e, i) => {
        if (results[b]![i] !== null) created.set(`${e.userId}:${e.room}`, (created.get(`${e.userId}:${e.room}`) ?? 0) + 1);
      }),
    );
    expect([...created.values()]).toEqual(entries.map(() => 1));
  });

  it("moves forward only, clamped to the room's last position; own messages are never unread", async () => {
    const [a, b] = await users(2);
    const r = room();
    await say(r, b!, 4);
    await say(r, a!, 2);
    await say(r, b!, 1);
    // Positions 1-4 b, 5-6 a, 7 b.
    expect(await reads.readRoom(a!, r, 2)).toEqual({ readPosition: 2, unread: 3, moved: true });
    expect(await reads.readRoom(a!, r, 1)).toEqual({ readPosition: 2, unread: 3, moved: false });
    expect(await reads.readRoom(a!, r, 2)).toEqual({ readPosition: 2, unread: 3, moved: false });
    expect(await reads.readRoom(a!, r, 5)).toEqual({ readPosition: 5, unread: 1, moved: true });
    expect(await reads.readRoom(a!, r, Number.MAX_SAFE_INTEGER)).toEqual({ readPosition: 7, unread: 0, moved: true });
    expect(await reads.readRoom(a!, r, 100)).toEqual({ readPosition: 7, unread: 0, moved: false });
    // b wrote 1-4 and 7: unread for b after 0 are a's two only.
    expect(await reads.readRoom(b!, r, 0)).toEqual({ readPosition: 0, unread: 2, moved: true });
    // A room with no message: clamped to 0.
    expect(await reads.readRoom(a!, room(), 10)).toEqual({ readPosition: 0, unread: 0, moved: true });
  });

  it(`counts unread up to ${UNREAD_COUNT_MAX}`, async () => {
    const [a, b] = await users(2);
    const r = room();
    await say(r, b!, UNREAD_COUNT_MAX + 5);
    expect(await reads.readRoom(a!, r, 0)).toEqual({ readPosition: 0, unread: UNREAD_COUNT_MAX, moved: true });
    expect(await reads.readRoom(a!, r, 10)).toEqual({ readPosition: 10, unread: UNREAD_COUNT_MAX - 5, moved: true });
  });

  it('forgetRoom drops the cursor (and the room from the list); reading creates it again', async () => {
    const [a] = await users(1);
    const r = room();
    await reads.ensureRooms([{ userId: a!, room: r }]);
    expect(await reads.forgetRoom(a!, r)).toBe(true);
    expect(await reads.forgetRoom(a!, r)).toBe(false);
    expect((await reads.state(a!)).rooms).toEqual([]);
    await say(r, a!, 1);
    expect(await reads.readRoom(a!, r, 1)).toEqual({ readPosition: 1, unread: 0, moved: true });
    expect((await reads.state(a!)).rooms).toEqual([{ room: r, position: 1, readPosition: 1, unread: 0 }]);
  });

  it("conversations: the peer's messages after the cursor are unread, in the reader's own stream, clamped to its end", async () => {
    const [a, b, c] = await users(3);
    const ab1 = await dm(a!, b!); // a 1, b 1
    const ba1 = await dm(b!, a!); // a 2, b 2
    const ca1 = await dm(c!, a!); // a 3
    const ba2 = await dm(b!, a!); // a 4, b 3
    const aa = await dm(a!, a!, 'note'); // a 5
    expect([ab1.position, ba1.recipientPosition, ca1.recipientPosition, ba2.recipientPosition, aa.position]).toEqual([1, 2, 3, 4, 5]);

    const state = await reads.state(a!);
    expect(state.conversations.map((c) => [c.user.id, c.position, c.readPosition, c.unread, c.lastMessage?.message])).toEqual([
      [a, 5, 0, 0, 'note'],
      [b, 4, 0, 2, `${b}→${a}`],
      [c, 3, 0, 1, `${c}→${a}`],
    ]);
    expect(state.conversations[1]?.user).toEqual({ id: b, username: expect.stringMatching(/^r\d+_2$/), role: 'user' });
    expect(state.conversations[1]?.lastMessage).toEqual({
      id: ba2.id,
      from: b,
      fromUsername: state.conversations[1]?.user.username,
      to: a,
      message: `${b}→${a}`,
      timestamp: createdAt.toISOString(),
      position: 4,
    });

    expect(await reads.readConversation(a!, b!, 2)).toEqual({ readPosition: 2, unread: 1, moved: true });
    expect(await reads.readConversation(a!, b!, 1)).toEqual({ readPosition: 2, unread: 1, moved: false });
    // a's stream ends at 5.
    expect(await reads.readConversation(a!, b!, 99)).toEqual({ readPosition: 5, unread: 0, moved: true });
    // b's cursor with a is in b's stream (3 long); a's own message to b is never unread for a.
    expect(await reads.readConversation(b!, a!, 0)).toEqual({ readPosition: 0, unread: 1, moved: true });
    // A peer never written to: a cursor all the same, not a conversation.
    const [d] = await users(1);
    expect(await reads.readConversation(a!, d!, 3)).toEqual({ readPosition: 3, unread: 0, moved: true });
    expect((await reads.state(a!)).conversations.map((c) => [c.user.id, c.readPosition, c.unread])).toEqual([
      [a, 0, 0],
      [b, 5, 0],
      [c, 0, 1],
    ]);
    await expect(reads.readConversation(a!, 2_000_000_000, 1)).rejects.toMatchObject({ code: 'not_found' });
  });

  it(`lists the latest ${READ_STATE_CONVERSATIONS_MAX} conversations, latest first, whichever side wrote last`, async () => {
    const [me] = await users(1);
    const peers = await users(READ_STATE_CONVERSATIONS_MAX + 2);
    // Alternately sent and received; the first peer gets a late message, so comes first.
    for (const [i, peer] of peers.entries()) await (i % 2 === 0 ? dm(me!, peer) : dm(peer, me!));
    await dm(peers[0]!, me!);
    const { conversations } = await reads.state(me!);
    expect(conversations.map((c) => c.user.id)).toEqual([peers[0], ...peers.slice(1).reverse()].slice(0, READ_STATE_CONVERSATIONS_MAX));
    expect(conversations.map((c) => c.position)).toEqual(range(0, READ_STATE_CONVERSATIONS_MAX - 1).map((i) => peers.length + 1 - i));
  });
});

describe('the read-state migration', () => {
  let target: TestDatabase;
  afterAll(() => target?.drop());

  it('counts every conversation stored before it as read', async () => {
    target = await createTestDatabase(inject('postgresUrl'));
    const { db, users, finish } = await beforeMigration(target, '_read_state', tmp);
    const [a, b] = users;
    try {
      const old = new MessageRepository(db.prisma, db.sql);
      const before: [number, number][] = [
        [a, b],
        [b, a],
        [b, a],
        [a, a],
      ];
      for (const [from, to] of before) await old.insertMany([{ authorId: from, recipientId: to, text: 'before', createdAt }]);
      await finish();
      const reads = new ReadStateRepository(db.sql);
      expect((await reads.state(a)).conversations.map((c) => [c.user.id, c.readPosition, c.unread])).toEqual([
        [a, 0, 0],
        [b, 3, 0],
      ]);
      expect((await reads.state(b)).conversations.map((c) => [c.user.id, c.readPosition, c.unread])).toEqual([[a, 1, 0]]);
      await old.insertMany([{ authorId: b, recipientId: a, text: 'after', createdAt }]);
      expect((await reads.state(a)).conversations.map((c) => [c.user.id, c.unread])).toEqual([
        [b, 1],
        [a, 0],
      ]);
    } finally {
      await db.close();
    }
  });
});
