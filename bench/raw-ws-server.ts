/**
 * The raw fan-out reference: one process, `ws`, no Socket.IO. A client connects to
 * `/?room=<room>` and sends {room, text} as JSON; every member of the room (sender
 * included) gets {room, text, timestamp}, serialised once. The practical limit of one
 * Node process for this fan-out.
 *
 * PORT (0 = any). Prints {"listening":<port>} once it listens.
 */
import { WebSocketServer, type WebSocket } from 'ws';

const rooms = new Map<string, Set<WebSocket>>();
const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.env.PORT ?? 3000), perMessageDeflate: false });

wss.on('connection', (ws, request) => {
  const room = new URL(request.url ?? '/', 'http://localhost').searchParams.get('room') ?? 'lobby';
  let members = rooms.get(room);
  if (!members) rooms.set(room, (members = new Set()));
  members.add(ws);
  ws.on('message', (data) => {
    let text: unknown;
    try {
      // binaryType 'nodebuffer' (the default): every message is a Buffer.
      text = (JSON.parse((data as Buffer).toString()) as { text?: unknown }).text;
    } catch {
      return;
    }
    if (typeof text !== 'string') return;
    const frame = Buffer.from(JSON.stringify({ room, text, timestamp: new Date().toISOString() }));
    for (const peer of members) peer.send(frame, { binary: false });
  });
  ws.on('close', () => members.delete(ws));
});

wss.on('listening', () => {
  const address = wss.address();
  process.stdout.write(`${JSON.stringify({ listening: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.once('SIGTERM', () => wss.close());
