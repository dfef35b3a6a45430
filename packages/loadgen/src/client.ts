import http from 'node:http';
import { WebSocket } from 'ws';

/** How a load client talks to its server. */
export type Transport = 'websocket' | 'polling';

/** 'socketio': Engine.IO v4 + Socket.IO v5 packets. 'raw': plain JSON over a WebSocket (bench/raw-ws). */
export type Protocol = 'socketio' | 'raw';

export interface ClientOptions {
  /** http(s) base URL of a node or of nginx. */
  url: string;
  protocol: Protocol;
  transport: Transport;
  /** Socket.IO handshake auth; omitted when undefined. */
  token?: string;
  /** Source address (any 127.x.y.z on loopback) so nginx's ip_hash sees many clients. */
  localAddress?: string;
  /** Called with every event frame as received (the raw text, not parsed). */
  onFrame: (frame: string) => void;
  onClose: () => void;
  /** Shared keep-alive agent for polling. */
  agent?: http.Agent;
}

const SEPARATOR = '\x1e';
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * A lean Socket.IO (Engine.IO v4) client: it keeps no per-event listeners or parsers and
 * hands each event frame as text to `onFrame`, so one thread can drive thousands of
 * clients. Handles the open packet, namespace connect with auth, ping/pong and acks.
 */
export class LoadClient {
  private ws: WebSocket | undefined;
  private sid = '';
  private closed = false;
  private pending: string[] = [];
  private posting = false;
  private ackId = 0;
  private readonly acks = new Map<number, (frame: string) => void>();
  private connectResolve: (() => void) | undefined;
  private connectReject: ((err: Error) => void) | undefined;

  constructor(private readonly options: ClientOptions) {}

  /** Open the transport and, for Socket.IO, connect namespace '/' with the token. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
      const fail = (err: Error) => {
        clearTimeout(timer);
        this.connectResolve = undefined;
        this.connectReject = undefined;
        this.close();
        reject(err);
      };
      this.connectResolve = () => {
        clearTimeout(timer);
        this.connectResolve = undefined;
        this.connectReject = undefined;
        resolve();
      };
      this.connectReject = fail;
      if (this.options.transport === 'websocket') this.openWebSocket();
      else this.openPolling().catch(fail);
    });
  }

  /** Emit a Socket.IO event (or, for 'raw', send `args[0]` as JSON). */
  emit(event: string, ...args: unknown[]): void {
    if (this.options.protocol === 'raw') this.write(JSON.stringify(args[0]));
    else this.write(`42${JSON.stringify([event, ...args])}`);
  }

  /** Emit with an ack; `onAck` gets the ack frame's JSON text (e.g. '[{"ok":true,"id":1}]'). */
  emitWithAck(event: string, onAck: (json: string) => void, ...args: unknown[]): void {
    const id = this.ackId++;
    this.acks.set(id, onAck);
    this.write(`42${id}${JSON.stringify([event, ...args])}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ws) this.ws.terminate();
    // Polling: tell the server; the session is gone either way, so a failed goodbye is moot.
    else if (this.sid) this.post(['1']).catch(() => undefined);
    this.options.onClose();
  }

  private endpoint(transport: Transport): string {
    const base = new URL(this.options.url);
    if (this.options.protocol === 'raw') {
      base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
      return base.toString();
    }
    base.pathname = '/socket.io/';
    base.search = `?EIO=4&transport=${transport}${this.sid ? `&sid=${this.sid}` : ''}`;
    if (transport === 'websocket') base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    return base.toString();
  }

  private openWebSocket(): void {
    const ws = new WebSocket(this.endpoint('websocket'), { perMessageDeflate: false, localAddress: this.options.localAddress });
    this.ws = ws;
    ws.on('message', (data: Buffer) => this.onPacket(data.toString()));
    ws.on('error', (err) => this.connectReject?.(err));
    ws.on('close', () => {
      this.connectReject?.(new Error('closed while connecting'));
      if (!this.closed) {
        this.closed = true;
        this.options.onClose();
      }
    });
    if (this.options.protocol === 'raw') ws.on('open', () => this.connectResolve?.());
  }

  private async openPolling(): Promise<void> {
    const body = await this.request('GET', this.endpoint('polling'));
    for (const packet of body.split(SEPARATOR)) this.onPacket(packet);
    void this.pollLoop();
  }

  private async pollLoop(): Promise<void> {
    while (!this.closed) {
      let body: string;
      try {
        body = await this.request('GET', this.endpoint('polling'));
      } catch (err) {
        this.connectReject?.(err as Error);
        this.close();
        return;
      }
      for (const packet of body.split(SEPARATOR)) this.onPacket(packet);
    }
  }

  private write(packet: string): void {
    if (this.closed) return;
    if (this.ws) {
      this.ws.send(packet);
      return;
    }
    this.pending.push(packet);
    if (!this.posting) this.flush();
  }

  /** Polling allows one POST at a time: send everything queued, then what queued meanwhile. */
  private flush(): void {
    if (this.pending.length === 0 || this.closed) {
      this.posting = false;
      return;
    }
    this.posting = true;
    const packets = this.pending;
    this.pending = [];
    this.post(packets).then(
      () => this.flush(),
      () => this.close(),
    );
  }

  private post(packets: string[]): Promise<string> {
    return this.request('POST', this.endpoint('polling'), packets.join(SEPARATOR));
  }

  private request(method: string, url: string, body?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method,
          agent: this.options.agent,
          localAddress: this.options.localAddress,
          headers: body === undefined ? {} : { 'content-type': 'text/plain;charset=UTF-8' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            if (res.statusCode === 200) resolve(text);
            else reject(new Error(`${method} ${res.statusCode}: ${text.slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  private onPacket(packet: string): void {
    if (this.options.protocol === 'raw') {
      this.options.onFrame(packet);
      return;
    }
    switch (packet.charCodeAt(0)) {
      case 48: // '0' open
        this.sid = (JSON.parse(packet.slice(1)) as { sid: string }).sid;
        this.write(this.options.token === undefined ? '40' : `40${JSON.stringify({ token: this.options.token })}`);
        return;
      case 50: // '2' ping
        this.write('3');
        return;
      case 49: // '1' close
        this.close();
        return;
      case 52: // '4' message: a Socket.IO packet
        this.onSocketPacket(packet);
        return;
      default:
    }
  }

  private onSocketPacket(packet: string): void {
    const type = packet.charCodeAt(1);
    if (type === 50) {
      // '2' event
      this.options.onFrame(packet);
    } else if (type === 51) {
      // '3' ack: 43<id>[...]
      const bracket = packet.indexOf('[');
      const id = Number(packet.slice(2, bracket));
      const onAck = this.acks.get(id);
      this.acks.delete(id);
      onAck?.(packet.slice(bracket));
    } else if (type === 48) {
      // '0' namespace connected
      this.connectResolve?.();
    } else if (type === 52) {
      // '4' connect_error
      this.connectReject?.(new Error(`connect_error ${packet.slice(2)}`));
    }
  }
}
