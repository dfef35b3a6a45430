import { describe, expect, it } from 'vitest';
import {
  chatMessageSchema,
  historyQuerySchema,
  isReservedRoom,
  joinRoomSchema,
  MAX_INT4_ID,
  MAX_ROOMS_PER_JOIN,
  MAX_TEXT_LENGTH,
  privateMessageSchema,
  roomSchema,
  usernameSchema,
} from '@parley/protocol';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, value: unknown) => schema.safeParse(value).success;

describe('payload schemas', () => {
  it('usernames: 3-32 of [A-Za-z0-9_.-]', () => {
    for (const name of ['abc', 'a'.repeat(32), 'A.b-c_9']) expect(ok(usernameSchema, name), name).toBe(true);
    for (const name of ['ab', 'a'.repeat(33), 'a b', 'é_abc', 'a/b', '']) expect(ok(usernameSchema, name), name).toBe(false);
  });

  it('rooms: 1-64 letters, digits, space and _.:#-', () => {
    for (const room of ['lobby', 'Café #1', 'a:b', 'r'.repeat(64)]) expect(ok(roomSchema, room), room).toBe(true);
    for (const room of ['', 'r'.repeat(65), 'semi;colon', 'new\nline', 5]) expect(ok(roomSchema, room), String(room)).toBe(false);
  });

  it(`chat text: 1-${MAX_TEXT_LENGTH} characters, not blank`, () => {
    expect(ok(chatMessageSchema, 'x'.repeat(MAX_TEXT_LENGTH))).toBe(true);
    expect(ok(chatMessageSchema, 'x'.repeat(MAX_TEXT_LENGTH + 1))).toBe(false);
    expect(ok(chatMessageSchema, ' \n\t')).toBe(false);
    expect(ok(chatMessageSchema, { room: 'r', text: 'hi' })).toBe(true);
  });

  it(`joinRoom: a room or 1-${MAX_ROOMS_PER_JOIN} rooms`, () => {
    expect(ok(joinRoomSchema, 'r')).toBe(true);
    expect(ok(joinRoomSchema, Array(MAX_ROOMS_PER_JOIN).fill('r'))).toBe(true);
    expect(ok(joinRoomSchema, Array(MAX_ROOMS_PER_JOIN + 1).fill('r'))).toBe(false);
    expect(ok(joinRoomSchema, [])).toBe(false);
  });

  it('user ids in payloads are JSON integers within the INTEGER column range', () => {
    expect(ok(privateMessageSchema, { to: MAX_INT4_ID, message: 'hi' })).toBe(true);
    for (const to of [MAX_INT4_ID + 1, 0, -1, 1.5, '1', true, null]) {
      expect(ok(privateMessageSchema, { to, message: 'hi' }), String(to)).toBe(false);
    }
  });

  it('history query: limit 1-100 (default 50), before a message id', () => {
    expect(historyQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(historyQuerySchema.parse({ limit: '100', before: String(2 ** 40) })).toEqual({ limit: 100, before: 2 ** 40 });
    for (const q of [{ limit: '0' }, { limit: '101' }, { before: '0' }, { before: 'x' }]) expect(ok(historyQuerySchema, q)).toBe(false);
  });
});

describe('isReservedRoom', () => {
  it.each(['user:1', 'user:', 'node:a', 'admin:x', 'system:y', 'AbCdEfGhIjKlMnOpQr_-', '01234567890123456789'])(
    '%s is reserved',
    (room) => {
      expect(isReservedRoom(room)).toBe(true);
    },
  );

  it.each(['lobby', 'users', 'user 1', 'AbCdEfGhIjKlMnOpQr_', 'AbCdEfGhIjKlMnOpQr_-x', 'AbCdEfGhIjKlMnOpQr:-'])('%s is not', (room) => {
    expect(isReservedRoom(room)).toBe(false);
  });
});
