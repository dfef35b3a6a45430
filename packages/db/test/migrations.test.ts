import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@parley/testkit';
import { MIGRATIONS_DIR, MessageRepository, openDatabase, readMigrations, type Database } from '../src/index.ts';

// The embedded database's migrations (fresh folder, then reopened) are covered by
// services/gateway/test/embedded.test.ts, which restarts a node over one folder.

let names: string[];
let tmp: string;
beforeAll(async () => {
  names = (await readMigrations(MIGRATIONS_DIR)).map((m) => m.name);
  tmp = await mkdtemp(join(tmpdir(), 'parley-migrations-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('migrator on PostgreSQL', () => {
  let target: TestDatabase;
  beforeAll(async () => {
    target = await createTestDatabase(inject('postgresUrl'));
  });
  afterAll(() => target?.drop());

  const open = () => openDatabase({ url: target.url, poolSize: 2, dataDir: tmp });

  it('applies every migration on a fresh database, then none (idempotent), even from two nodes at once', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    try {
      const reports = await Promise.all([a.migrate(), b.migrate()]);
      expect(reports.flatMap((r) => r.applied).sort()).toEqual(names);
      const again = await a.migrate();
      expect(again).toEqual({ applied: [], alreadyApplied: names, modified: [] });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
    const rows = await target.query<{ migration_name: string; finished_at: Date | null }>(
      'SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(names);
    expect(rows.every((r) => r.finished_at !== null)).toBe(true);
  });

  it('close() is idempotent', async () => {
    const db = await open();
    await db.close();
    await expect(db.close()).resolves.toBeUndefined();
  });
});

describe('MessageRepository.insertMany', () => {
  let target: TestDatabase;
  let db: Database;
  let authorId: number;
  beforeAll(async () => {
    target = await createTestDatabase(inject('postgresUrl'));
    db = await openDatabase({ url: target.url, poolSize: 2, dataDir: tmp });
    await db.migrate();
    const [row] = await target.query<{ id: number }>(`INSERT INTO users (username, password_hash) VALUES ('author', 'x') RETURNING id`);
    authorId = row!.id;
  });
  afterAll(async () => {
    await db?.close();
    await target?.drop();
  });

  it('writes room and private messages in one statement, ids in input order', async () => {
    const repo = new MessageRepository(db.prisma, db.sql);
    const createdAt = new Date();
    const stored = await repo.insertMany([
      { room: 'a', authorId, text: 'first', createdAt },
      { authorId, recipientId: authorId, text: 'private', createdAt },
      { room: 'a', authorId, text: 'third', createdAt },
    ]);
    expect(stored.map((s) => s.duplicate)).toEqual([false, false, false]);
    const ids = stored.map((s) => s.id);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect((await repo.history('a', 10)).map((m) => [m.id, m.text])).toEqual([
      [ids[2], 'third'],
      [ids[0], 'first'],
    ]);
  });

  it('a clientId already stored, or earlier in the batch, answers with that row and inserts nothing', async () => {
    const repo = new MessageRepository(db.prisma, db.sql);
    const createdAt = new Date();
    const [first] = await repo.insertMany([{ room: 'c', authorId, text: 'once', createdAt, clientId: 'k1' }]);
    const batch = await repo.insertMany([
      { room: 'c', authorId, text: 'new', createdAt, clientId: 'k2' },
      { room: 'c', authorId, text: 'once', createdAt, clientId: 'k1' },
      { room: 'c', authorId, text: 'plain', createdAt },
      { room: 'c', authorId, text: 'new', createdAt, clientId: 'k2' },
    ]);
    // Only the two new messages take a position (the room had 1).
    expect(batch).toEqual([
      { id: expect.any(Number), position: 2, recipientPosition: null, duplicate: false },
      { ...first!, duplicate: true },
      { id: expect.any(Number), position: 3, recipientPosition: null, duplicate: false },
      { ...batch[0]!, duplicate: true },
    ]);
    expect((await repo.history('c', 10)).map((m) => m.text)).toEqual(['plain', 'new', 'once']);
  });

  it('fails as a whole when one row is bad (the caller falls back to one by one)', async () => {
    const repo = new MessageRepository(db.prisma, db.sql);
    const createdAt = new Date();
    await expect(
      repo.insertMany([
        { room: 'b', authorId, text: 'good', createdAt },
        { room: 'b', authorId: 999_999, text: 'no such author', createdAt },
      ]),
    ).rejects.toThrow();
    expect(await repo.history('b', 10)).toEqual([]);
  });
});
