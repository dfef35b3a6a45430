import { describe, expect, it } from 'vitest';
import { verifyRun, type Received, type SendRecord, type StoredRow } from '@parley/chaos';

// The chaos run's accounting on made-up runs: a clean one, then each kind of fault it must catch.
const send = (text: string, id: number | undefined, clientIds = [`c-${text}`], error?: string): SendRecord => ({
  client: Number(text.split(':')[0]),
  room: 'r',
  text,
  clientIds,
  ...(id === undefined ? { error } : { id }),
});
const row = (id: number, text: string, clientId: string | null = `c-${text}`, authorId = Number(text.split(':')[0])): StoredRow => ({
  id,
  room: 'r',
  authorId,
  clientId,
  text,
});
const member = (client: number, ids: number[]): Received => {
  const counts = new Map<number, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return { client, room: 'r', counts };
};

const sends = [send('0:0', 1), send('1:0', 2, ['c-1:0', 'c-1:0']), send('1:1', undefined, ['c-1:1'], 'forbidden')];
const rows = [row(1, '0:0'), row(2, '1:0')];
const members = [member(0, [1, 2]), member(1, [1, 2])];

describe('verifyRun', () => {
  it('a clean run: counts, no problem', () => {
    const v = verifyRun(sends, rows, members);
    expect(v).toMatchObject({ stored: 2, lost: 0, duplicated: 0, phantom: 0, ok: true, examples: [] });
    expect(v.sends).toMatchObject({
      total: 3,
      acked: 2,
      failed: 1,
      failedBy: { forbidden: 1 },
      retried: 1,
      retriedAcked: 1,
      maxAttempts: 2,
    });
    expect(v.deliveries).toEqual({ expected: 4, missing: 0, duplicated: 0, unexpected: 0, completeClients: 2 });
  });

  it('an acked message not stored, or stored under another id, is lost', () => {
    expect(verifyRun(sends, [row(1, '0:0')], members)).toMatchObject({ lost: 1, ok: false });
    expect(verifyRun(sends, [row(1, '0:0'), row(3, '1:0')], [member(0, [1, 3])])).toMatchObject({ lost: 1, ok: false });
  });

  it('one send stored twice (a retry with a new clientId, or the same one) is a duplicate', () => {
    const twice = [...rows, row(3, '1:0', 'c-other')];
    expect(verifyRun(sends, twice, [member(0, [1, 2, 3])])).toMatchObject({ duplicated: 1, ok: false });
    const sameKey = [...rows, row(3, '9:9', 'c-1:0', 1)];
    expect(verifyRun(sends, sameKey, [member(0, [1, 2, 3])])).toMatchObject({ duplicated: 1, phantom: 1, ok: false });
  });

  it('a retry with another clientId, or a row stored under one the send never carried, is caught', () => {
    const changed = [send('0:0', 1, ['a', 'b'])];
    expect(verifyRun(changed, [row(1, '0:0', 'a')], [member(0, [1])]).sends).toMatchObject({ clientIdChanged: 1, clientIdMismatch: 0 });
    expect(verifyRun([send('0:0', 1)], [row(1, '0:0', 'x')], [member(0, [1])])).toMatchObject({
      sends: { clientIdMismatch: 1 },
      ok: false,
    });
  });

  it('a stored message a member never got is missing; one got twice or from elsewhere is caught', () => {
    expect(verifyRun(sends, rows, [member(0, [1])]).deliveries).toMatchObject({ missing: 1, completeClients: 0 });
    expect(verifyRun(sends, rows, [member(0, [1, 2, 2])]).deliveries).toMatchObject({ duplicated: 1, completeClients: 1 });
    const v = verifyRun(sends, rows, [member(0, [1, 2, 7])]);
    expect(v.deliveries.unexpected).toBe(1);
    expect(v.ok).toBe(false);
    expect(v.examples).toEqual(['unexpected: client 0 (r) got 7, not a stored message of its room']);
  });

  it('a failed send stored all the same must still reach every member', () => {
    const late = [...rows, row(3, '1:1', 'c-1:1')];
    const v = verifyRun(sends, late, [member(0, [1, 2])]);
    expect(v.sends.failedButStored).toBe(1);
    expect(v.deliveries.missing).toBe(1);
    expect(v.ok).toBe(false);
  });
});
