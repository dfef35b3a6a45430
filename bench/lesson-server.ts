/**
 * The reference "lesson server": the straightforward Socket.IO chat from the lesson, scaled
 * with @socket.io/redis-adapter. join {username, room} and chatMessage (text) to the room;
 * no auth, no validation, no persistence. Run two on the same Redis for the benchmark.
 *
 * PORT (0 = any), REDIS_URL. Prints {"listening":<port>} once it listens.
 */
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

interface User {
  id: string;
  username: string;
  room: string;
}

const users = new Map<string, User>();
const formatMessage = (username: string, text: string) => ({ username, text, time: new Date().toISOString() });
const roomUsers = (room: string) => [...users.values()].filter((u) => u.room === room);

const pubClient = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const subClient = pubClient.duplicate();
const httpServer = createServer();
const io = new Server(httpServer, { adapter: createAdapter(pubClient, subClient) });

io.on('connection', (socket) => {
  socket.on('join', ({ username, room }: { username: string; room: string }) => {
    const user: User = { id: socket.id, username, room };
    users.set(socket.id, user);
    void socket.join(room);
    socket.emit('message', formatMessage('ChatBot', 'Welcome to the chat!'));
    socket.broadcast.to(room).emit('message', formatMessage('ChatBot', `${username} has joined the chat`));
    io.to(room).emit('roomUsers', { room, users: roomUsers(room) });
  });

  socket.on('chatMessage', (msg: string) => {
    const user = users.get(socket.id);
    if (user) io.to(user.room).emit('message', formatMessage(user.username, msg));
  });

  socket.on('disconnect', () => {
    const user = users.get(socket.id);
    if (!user) return;
    users.delete(socket.id);
    io.to(user.room).emit('message', formatMessage('ChatBot', `${user.username} has left the chat`));
    io.to(user.room).emit('roomUsers', { room: user.room, users: roomUsers(user.room) });
  });
});

httpServer.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = httpServer.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => {
  void io.close();
  pubClient.disconnect();
  subClient.disconnect();
});
