import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from '@parley/protocol';
import { connect, http, nextEvent, registerUser, request, startNode, type Session, type TestNode } from '@parley/testkit';

// The default mode: no DATABASE_URL, so the node runs the embedded PostgreSQL (PGlite) in DATA_DIR.
let dataDir: string | undefined;
let node: TestNode | undefined;
afterAll(async () => {
  await node?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('embedded database (no DATABASE_URL)', () => {
  // PGlite compiles its WASM and runs initdb: slow on a busy 2-core machine, hence the timeout.
  it(
    'registers, chats, and after a restart over the same folder still has the user, the history and the read state',
    { timeout: 120_000 },
    async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'parley-embedded-'));
      node = await startNode({ DATA_DIR: dataDir });
      expect(node.app.db.kind).toBe('embedded');
      const alice = await registerUser(node.url, 'embedded_alice', 'password123');
      const socket = await connect(node.url, '/', alice.token);
      // The join puts the room in alice's list (read state, its own migration): announced once stored.
      const listed = nextEvent(socket, 'readState');
      await request(socket, 'join', { room: 'lobby' });
      expect(await listed).toEqual({ room: 'lobby', readPosition: 0, unread: 0 });
      const echoed = nextEvent<ChatMessage>(socket, 'message', (m) => m.text === 'kept across restarts');
      const ack = await request<{ ok: true; id: number }>(socket, 'chatMessage', 'kept across restarts');
      expect(ack.ok).toBe(true);
      await echoed;
      socket.close();
      await node.close();
      // Closing twice is harmless (main.ts and a test harness may both do it).
      await node.close();

      node = await startNode({ DATA_DIR: dataDir });
      expect((await http(node.url, 'GET', '/readyz')).status).toBe(200);
      // The start migrated nothing: every migration was applied by the first start.
      expect((await node.app.db.migrate()).applied).toEqual([]);
      const login = await http<Session>(node.url, 'POST', '/auth/login', { body: { username: 'embedded_alice', password: 'password123' } });
      expect(login.status).toBe(200);
      const history = await http<{ messages: ChatMessage[] }>(node.url, 'GET', '/rooms/lobby/messages', { token: login.body.token });
      expect(history.body.messages).toEqual([
        expect.objectContaining({ id: ack.id, text: 'kept across restarts', username: 'embedded_alice' }),
      ]);
      const readState = await http(node.url, 'GET', '/me/read-state', { token: login.body.token });
      expect(readState.body).toEqual({ rooms: [{ room: 'lobby', position: 1, readPosition: 0, unread: 0 }], conversations: [] });
    },
  );
});
