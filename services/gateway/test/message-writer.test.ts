import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MessageRepository, openDatabase, type Database, type NewRoomMessage, type StoredMessage } from '@parley/db';
import { createTestDatabase, type TestDatabase } from '@parley/testkit';
import { GroupCommit } from '../src/domain/group-commit.ts';

// The node's message writer as wired in plugins/realtime.ts: group commit over the batched INSERT.
let target: TestDatabase;
let db: Database;
let authorId: number;
beforeAll(async () => {
  target = await createTestDatabase(inject('postgresUrl'));
  db = await openDatabase({ url: target.url, poolSize: 2, dataDir: '.' });
  await db.migrate();
  const [row] = await target.query<{ id: number }>(`INSERT INTO users (username, password_hash) VALUES ('writer', 'x') RETURNING id`);
  authorId = row!.id;
});
afterAll(async () => {
  await db?.close();
  await target?.drop();
});

describe('message writer (group commit + insertMany)', () => {
  it('batches messages submitted together, and one bad row fails alone', async () => {
    const repo = new MessageRepository(db.prisma, db.sql);
    const batches: number[] = [];
    const writer = new GroupCommit<NewRoomMessage, StoredMessage>((items) => {
      batches.push(items.length);
      return repo.insertMany(items);
    });
    const createdAt = new Date();
    const results = await Promise.allSettled([
      writer.submit({ room: 'w', authorId, text: 'one', createdAt }),
      writer.submit({ room: 'w', authorId: 987_654, text: 'author deleted meanwhile', createdAt }),
      writer.submit({ room: 'w', authorId, text: 'three', createdAt }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // One batch of three failed; then each was written on its own.
    expect(batches).toEqual([3, 1, 1, 1]);
    expect((await repo.history('w', 10)).map((m) => m.text)).toEqual(['three', 'one']);
  });
});
