import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@parley/testkit';
import { MessageRepository, openDatabase, type Database } from '../src/index.ts';
import { beforeMigration } from './before-migration.ts';

// Positions as PostgreSQL assigns them: gapless per stream however batches from several nodes
// interleave, never taken by a retry, and numbered for the rows that existed before.

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'parley-positions-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('MessageRepository positions', () => {
  let target: TestDatabase;
  /** Two pools: two nodes writing at once. */
  let nodes: [Database, Database];
  let users: number[];
  beforeAll(async () => {
    target = await createTestDatabase(inject('postgresUrl'));
    nodes = [
      await openDatabase({ url: target.url, poolSize: 4, dataDir: tmp }),
      await openDatabase({ url: target.url, poolSize: 4, dataDir: tmp }),
    ];
    await nodes[0].migrate();
    const rows = await target.query<{ id: number }>(
      `INSERT INTO users (username, password_hash) SELECT 'u' || g, 'x' FROM generate_series(1, 4) g RETURNING id`,
    );
    users = rows.map((r) => r.id);
  });
  afterAll(async () => {
    await Promise.all((nodes ?? []).map((db) => db?.close()));
    await target?.drop();
  });

  const repo = (i: number) => new MessageRepository(nodes[i % 2]!.prisma, nodes[i % 2]!.sql);
  const createdAt = new Date();

  it('batches from two nodes, each over several rooms, number every room 1..n with no gap, commit order = position order', async () => {
    const rooms = ['p-a', 'p-b', 'p-c'];
    // 40 batches at once, alternating nodes, each touching the rooms in a different order
    // (a deadlock between counters would fail a batch).
    const batches = range(0, 39).map((b) =>
      repo(b).insertMany(range(0, 5).map((i) => ({ room: rooms[(b + i) % 3]!, authorId: users[i % 4]!, text: `${b}.${i}`, createdAt }))),
    );
    const results = (await Promise.all(batches)).flat();
    expect(results).toHaveLength(240);
    for (const room of rooms) {
      const rows = await target.query<{ id: string; room_position: string }>(
        'SELECT id, room_position FROM messages WHERE room = $1 ORDER BY id',
        [room],
      );
      expect(
        rows.map((r) => Number(r.room_position)),
        room,
      ).toEqual(range(1, 80));
      expect(await repo(0).roomPosition(room)).toBe(80);
    }
    expect(new Set(results.map((r) => r.id)).size).toBe(240);
  });

  it("private messages take a place in the author's and the recipient's streams, one place when sent to oneself", async () => {
    const [a, b] = [users[2]!, users[3]!];
    const [ab, ba, aa] = await repo(0).insertMany([
      { authorId: a, recipientId: b, text: 'a→b', createdAt },
      { authorId: b, recipientId: a, text: 'b→a', createdAt },
      { authorId: a, recipientId: a, text: 'a→a', createdAt },
    ]);
    expect([ab, ba, aa].map((m) => [m!.position, m!.recipientPosition])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect((await repo(1).privateSince(a, { sincePosition: 0 }, 10)).map((m) => [m.message, m.position])).toEqual([
      ['a→b', 1],
      ['b→a', 2],
      ['a→a', 3],
    ]);
    expect((await repo(1).privateSince(b, { sincePosition: 1 }, 10)).map((m) => [m.message, m.position])).toEqual([['b→a', 2]]);
    expect([await repo(0).privatePosition(a), await repo(0).privatePosition(b), await repo(0).privatePosition(users[0]!)]).toEqual([
      3, 2, 0,
    ]);
  });

  it('the same clientId from two nodes at once is stored once and takes one position', async () => {
    const room = 'p-retry';
    const author = users[0]!;
    const attempts = await Promise.all(
      range(0, 7).map((i) => repo(i).insertMany([{ room, authorId: author, text: 'once', createdAt, clientId: 'same' }])),
    );
    const ids = new Set(attempts.flat().map((s) => s.id));
    expect(ids.size).toBe(1);
    expect(attempts.flat().filter((s) => !s.duplicate)).toHaveLength(1);
    const [next] = await repo(0).insertMany([{ room, authorId: author, text: 'next', createdAt }]);
    expect(next!.position).toBe(2);
  });
});

describe('the positions migration', () => {
  let target: TestDatabase;
  afterAll(() => target?.drop());

  it('numbers the rows already stored, in id order, and the counters continue from there', async () => {
    target = await createTestDatabase(inject('postgresUrl'));
    const { db, users, finish } = await beforeMigration(target, '_message_positions', tmp);
    const [a, b] = users;
    try {
      await target.query(
        `INSERT INTO messages (room, author_id, recipient_id, text) VALUES
           ('old', $1, NULL, 'r1'), (NULL, $1, $2, 'a→b'), ('old', $2, NULL, 'r2'), (NULL, $2, $1, 'b→a'), (NULL, $1, $1, 'a→a')`,
        [a, b],
      );
      await finish();
      const rows = await target.query<{
        text: string;
        room_position: string | null;
        author_position: string | null;
        recipient_position: string | null;
      }>('SELECT text, room_position, author_position, recipient_position FROM messages ORDER BY id');
      expect(
        rows.map((r) => [r.text, r.room_position, r.author_position, r.recipient_position].map((v) => (v === null ? null : String(v)))),
      ).toEqual([
        ['r1', '1', null, null],
        ['a→b', null, '1', '1'],
        ['r2', '2', null, null],
        ['b→a', null, '2', '2'],
        ['a→a', null, '3', '3'],
      ]);
      const repo = new MessageRepository(db.prisma, db.sql);
      const [next, dm] = await repo.insertMany([
        { room: 'old', authorId: a, text: 'r3', createdAt: new Date() },
        { authorId: b, recipientId: a, text: 'b→a again', createdAt: new Date() },
      ]);
      expect([next!.position, dm!.position, dm!.recipientPosition]).toEqual([3, 3, 4]);
    } finally {
      await db.close();
    }
  });
});
