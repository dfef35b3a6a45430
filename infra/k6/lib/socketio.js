// Socket.IO (Engine.IO v4, Socket.IO v5 packets) over k6's WebSocket API (k6/ws, k6 >= 0.48).
//
//   '0{...}'              open (server)          '2' / '3'        ping (server) / pong (client)
//   '40<nsp,>{"token"}'   connect a namespace    '44<nsp,>{...}'  connect_error
//   '42<nsp,><id>[...]'   event (id: ack wanted) '43<nsp,><id>[...]' ack
import ws from 'k6/ws';

/** ws:// URL of the Socket.IO endpoint behind an http(s):// base URL. */
export function socketUrl(baseUrl) {
  return `${baseUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/socket.io/?EIO=4&transport=websocket`;
}

/** Split a Socket.IO packet (after the Engine.IO '4') into {type, nsp, id, data}. */
export function parsePacket(text) {
  const type = text.charAt(0);
  let i = 1;
  let nsp = '/';
  if (text.charAt(i) === '/') {
    const comma = text.indexOf(',', i);
    nsp = text.slice(i, comma);
    i = comma + 1;
  }
  let id = '';
  while (i < text.length && text.charAt(i) >= '0' && text.charAt(i) <= '9') id += text.charAt(i++);
  const rest = text.slice(i);
  return { type, nsp, id: id === '' ? undefined : Number(id), data: rest === '' ? undefined : JSON.parse(rest) };
}

/**
 * Open a socket on `namespace` with handshake auth {token}; `handlers.connect(client)` runs
 * once the namespace accepted it, `handlers.connectError(data)` if it refused, and
 * `handlers.events[name](...args)` for each event. Returns k6's ws.connect response.
 * client: emit(event, ...args), emitWithAck(event, args, callback), close(),
 * setTimeout(fn, ms), setInterval(fn, ms).
 */
export function connectSocketIO(baseUrl, namespace, token, handlers) {
  const prefix = namespace === '/' ? '' : `${namespace},`;
  const events = handlers.events || {};
  return ws.connect(socketUrl(baseUrl), {}, (socket) => {
    const acks = {};
    let nextAck = 0;
    const client = {
      emit(event, ...args) {
        socket.send(`42${prefix}${JSON.stringify([event, ...args])}`);
      },
      emitWithAck(event, args, callback) {
        const id = nextAck++;
        acks[id] = callback;
        socket.send(`42${prefix}${id}${JSON.stringify([event, ...args])}`);
      },
      close() {
        socket.close();
      },
      setTimeout(fn, ms) {
        socket.setTimeout(fn, ms);
      },
      setInterval(fn, ms) {
        socket.setInterval(fn, ms);
      },
    };
    socket.on('message', (message) => {
      const kind = message.charAt(0);
      if (kind === '0') {
        socket.send(`40${prefix}${JSON.stringify({ token })}`);
      } else if (kind === '2') {
        socket.send('3');
      } else if (kind === '4') {
        const packet = parsePacket(message.slice(1));
        if (packet.nsp !== namespace) return;
        if (packet.type === '0' && handlers.connect) handlers.connect(client);
        else if (packet.type === '4') {
          if (handlers.connectError) handlers.connectError(packet.data);
          socket.close();
        } else if (packet.type === '2') {
          const [name, ...args] = packet.data;
          if (events[name]) events[name](...args);
        } else if (packet.type === '3' && acks[packet.id]) {
          const callback = acks[packet.id];
          delete acks[packet.id];
          callback(...packet.data);
        }
      }
    });
    socket.on('error', (e) => {
      if (handlers.error) handlers.error(e);
    });
  });
}
