import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { LoadClient } from './client.ts';
import { monotonicMs, type ClientSpec, type FromWorker, type ToWorker, type WorkerInit } from './worker-protocol.ts';

/** Text marker: `L|<send time, monotonic ms>|` starts every measured message. */
const MARKER = 'L|';
const JOIN_TIMEOUT_MS = 15_000;

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

let latencies = new Float64Array(1 << 16);
let latencyCount = 0;
let measureStart = Infinity;
let measureEnd = -Infinity;
let delivered = 0;
let sentTotal = 0;
let acksOk = 0;
let disconnects = 0;
let connecting = true;
const sentByRoom: Record<string, number> = {};
const ackErrors: Record<string, number> = {};
const connectErrors: Record<string, number> = {};
const clients: { spec: ClientSpec; client: LoadClient }[] = [];
const timers: NodeJS.Timeout[] = [];

function record(latency: number): void {
  if (latencyCount === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2);
    bigger.set(latencies);
    latencies = bigger;
  }
  latencies[latencyCount++] = latency;
}

function onFrame(frame: string): void {
  const at = frame.indexOf(MARKER);
  if (at === -1) return;
  const sentAt = Number(frame.slice(at + MARKER.length, frame.indexOf('|', at + MARKER.length)));
  if (sentAt < measureStart || sentAt >= measureEnd) return;
  delivered++;
  record(monotonicMs() - sentAt);
}

function increment(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

function onAck(json: string): void {
  if (json.startsWith('[{"ok":true')) {
    acksOk++;
    return;
  }
  const code = /"code":"([^"]+)"/.exec(json)?.[1] ?? 'unknown';
  increment(ackErrors, code);
}

/** Resolve on the first 'message' event (the welcome) after emitting 'join'. */
function join(client: LoadClient, room: string, waitFor: { resolve?: () => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('join timeout')), JOIN_TIMEOUT_MS);
    waitFor.resolve = () => {
      clearTimeout(timer);
      waitFor.resolve = undefined;
      resolve();
    };
    client.emit('join', { username: 'loadgen', room });
  });
}

async function open(spec: ClientSpec): Promise<void> {
  const waitFor: { resolve?: () => void } = {};
  const client = new LoadClient({
    url: spec.url,
    protocol: init.protocol,
    transport: init.transport,
    token: spec.token,
    localAddress: spec.localAddress,
    agent,
    onFrame: (frame) => {
      if (waitFor.resolve && frame.startsWith('42["message"')) waitFor.resolve();
      onFrame(frame);
    },
    onClose: () => {
      if (!connecting) disconnects++;
    },
  });
  await client.connect();
  if (spec.room !== undefined && init.protocol === 'socketio') await join(client, spec.room, waitFor);
  clients.push({ spec, client });
}

async function connectAll(): Promise<void> {
  let next = 0;
  let failed = 0;
  const progress = setInterval(() => post({ type: 'progress', connected: clients.length, failed }), 1000);
  const lane = async () => {
    while (next < init.clients.length) {
      const spec = init.clients[next++]!;
      try {
        await open(spec);
      } catch (err) {
        failed++;
        increment(connectErrors, (err as Error).message.slice(0, 120));
      }
    }
  };
  await Promise.all(Array.from({ length: init.connectConcurrency }, lane));
  clearInterval(progress);
  connecting = false;
  const connectedByRoom: Record<string, number> = {};
  for (const { spec } of clients) if (spec.room !== undefined) increment(connectedByRoom, spec.room);
  post({ type: 'ready', connected: clients.length, failed, errors: connectErrors, connectedByRoom });
}

function startSending(): void {
  const interval = 1000 / init.rate;
  const pad = init.padding > 0 ? ` ${'x'.repeat(init.padding)}` : '';
  for (const { spec, client } of clients) {
    if (!spec.sender || spec.room === undefined) continue;
    const room = spec.room;
    const send = () => {
      const now = monotonicMs();
      if (now >= measureEnd) return;
      const text = `${MARKER}${now.toFixed(3)}|${init.workerId}${pad}`;
      sentTotal++;
      if (now >= measureStart) sentByRoom[room] = (sentByRoom[room] ?? 0) + 1;
      if (init.protocol === 'raw') client.emit('chatMessage', { room, text });
      else if (init.ack) client.emitWithAck('chatMessage', onAck, text);
      else client.emit('chatMessage', text);
    };
    // A random phase so senders do not fire in lockstep.
    timers.push(
      setTimeout(() => {
        send();
        timers.push(setInterval(send, interval));
      }, Math.random() * interval),
    );
  }
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'start':
      measureStart = message.measureStart;
      measureEnd = message.measureEnd;
      startSending();
      return;
    case 'count':
      post({ type: 'counts', sentByRoom, delivered });
      return;
    case 'report': {
      for (const timer of timers) clearInterval(timer);
      const copy = latencies.slice(0, latencyCount);
      port.postMessage(
        { type: 'report', sentByRoom, delivered, sentTotal, acksOk, ackErrors, disconnects, latencies: copy } satisfies FromWorker,
        [copy.buffer],
      );
      return;
    }
    case 'close':
      connecting = true; // closing on purpose: not a disconnect
      for (const { client } of clients) client.close();
      agent.destroy();
      port.close();
      return;
  }
});

await connectAll();
