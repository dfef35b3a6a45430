// Child process of bench/fanout.ts: holds a share of the followers' '/notifications'
// sockets and reports, per post, when every one of its sockets has that post's notification.
import { io, type Socket } from 'socket.io-client';
import type { Notification } from '@parley/protocol';

export type ToClient = { type: 'connect'; url: string; tokens: string[] } | { type: 'close' };
export type FromClient = { type: 'ready'; sockets: number } | { type: 'received'; postId: number; lastAt: number };

const CONNECT_CONCURRENCY = 100;
const sockets: Socket[] = [];
const progress = new Map<number, number>();

function send(message: FromClient): void {
  process.send?.(message);
}

function open(url: string, token: string): Promise<Socket> {
  const socket = io(`${url}/notifications`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  socket.on('notification', (n: Notification) => {
    const postId = n.data.postId;
    if (n.type !== 'new_post' || typeof postId !== 'number') return;
    const count = (progress.get(postId) ?? 0) + 1;
    progress.set(postId, count);
    if (count === sockets.length) send({ type: 'received', postId, lastAt: Date.now() });
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

process.on('message', (message: ToClient) => void onMessage(message));

async function onMessage(message: ToClient): Promise<void> {
  if (message.type === 'close') {
    for (const s of sockets) s.close();
    process.exit(0);
  }
  for (let i = 0; i < message.tokens.length; i += CONNECT_CONCURRENCY) {
    const batch = message.tokens.slice(i, i + CONNECT_CONCURRENCY);
    sockets.push(...(await Promise.all(batch.map((t) => open(message.url, t)))));
  }
  send({ type: 'ready', sockets: sockets.length });
}
