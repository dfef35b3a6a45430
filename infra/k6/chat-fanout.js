// Chat fan-out: VUS users register, connect with their token, join ROOMS rooms; every
// SENDER_EVERY-th user sends a chatMessage every SEND_EVERY_MS with its send time in the text.
// Every receiver records the end-to-end latency; every sender checks that its own messages
// come back through the room (delivery ratio).
//
// PROTOCOL=lesson speaks the lesson's plain chat server instead (no users or tokens, `join`
// {username, room} and `chatMessage` text without acks; bench/lesson-server.ts), so one script
// measures both. BASE_URLS (comma-separated) spreads the users over several nodes without a
// proxy, each room on all of them. WINDOW_START_MS / WINDOW_END_MS (epoch ms): deliveries of
// messages sent inside that window are also counted in `chat_window_received`, for a bench that
// reads the servers' CPU over the same window (bench/k6-cpu.ts).
import { check } from 'k6';
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import { registerMany, uniqueUsername } from './lib/http.js';
import { connectSocketIO } from './lib/socketio.js';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:8080';
const BASE_URLS = __ENV.BASE_URLS ? __ENV.BASE_URLS.split(',') : [BASE_URL];
const LESSON = __ENV.PROTOCOL === 'lesson';
const WINDOW_START_MS = Number(__ENV.WINDOW_START_MS || 0);
const WINDOW_END_MS = Number(__ENV.WINDOW_END_MS || 0);
const VUS = Number(__ENV.VUS || 200);
const ROOMS = Number(__ENV.ROOMS || 10);
const SENDER_EVERY = Number(__ENV.SENDER_EVERY || 4);
const SEND_EVERY_MS = Number(__ENV.SEND_EVERY_MS || 500);
const DURATION_S = Number(__ENV.DURATION_S || 60);
/** How long after the last send a message may still arrive. */
const GRACE_S = Number(__ENV.GRACE_S || 5);

const e2eLatency = new Trend('chat_e2e_latency', true);
const deliveryRatio = new Rate('chat_delivery_ratio');
const sent = new Counter('chat_messages_sent');
const received = new Counter('chat_messages_received');
const connectTime = new Trend('sio_connect_time', true);
const windowReceived = new Counter('chat_window_received');

export const options = {
  setupTimeout: '600s',
  scenarios: {
    chat: { executor: 'per-vu-iterations', vus: VUS, iterations: 1, maxDuration: `${DURATION_S + GRACE_S + 60}s` },
  },
  thresholds: {
    chat_delivery_ratio: ['rate>=0.999'],
    chat_e2e_latency: [`p(95)<${__ENV.P95_MS || 50}`, `p(99)<${__ENV.P99_MS || 100}`],
    checks: ['rate>0.99'],
  },
};

export function setup() {
  if (LESSON) return { tokens: [] };
  const names = Array.from({ length: VUS }, (_, i) => uniqueUsername('k6c', i));
  return { tokens: registerMany(BASE_URLS[0], names).map((s) => s.token) };
}

export default function (data) {
  // 0..VUS-1 (one iteration per VU); exec.vu.idInTest would depend on how k6 numbers its VUs.
  const vu = exec.scenario.iterationInTest;
  const room = `k6-room-${vu % ROOMS}`;
  // By block of ROOMS users, so every room has members on every node.
  const baseUrl = BASE_URLS[Math.floor(vu / ROOMS) % BASE_URLS.length];
  // SENDERS: the first SENDERS users send (as pnpm loadgen's senders), else every SENDER_EVERY-th.
  const sender = __ENV.SENDERS ? vu < Number(__ENV.SENDERS) : vu % SENDER_EVERY === 0;
  const outstanding = {};
  let seq = 0;
  let sending = true;
  const started = Date.now();

  const res = connectSocketIO(baseUrl, '/', data.tokens[vu], {
    connect(client) {
      connectTime.add(Date.now() - started);
      const send = () => {
        client.setInterval(() => {
          if (!sending) return;
          const now = Date.now();
          outstanding[seq] = now;
          const text = `k6|${now}|${vu}|${seq}`;
          if (LESSON) client.emit('chatMessage', text);
          else
            client.emitWithAck('chatMessage', [{ room, text }], (a) => {
              check(a, { 'chatMessage acked': (x) => x && x.ok === true });
            });
          seq++;
          sent.add(1);
        }, SEND_EVERY_MS);
      };
      if (LESSON) {
        // The lesson server does not answer 'join'; the events of one socket are handled in order.
        client.emit('join', { username: `k6c-${vu}`, room });
        if (sender) send();
        return;
      }
      client.emitWithAck('join', [{ room }], (ack) => {
        check(ack, { joined: (a) => a && a.ok === true });
        if (sender) send();
      });
      client.setTimeout(() => {
        sending = false;
      }, DURATION_S * 1000);
      client.setTimeout(
        () => {
          for (const key of Object.keys(outstanding)) deliveryRatio.add(false);
          client.close();
        },
        (DURATION_S + GRACE_S) * 1000,
      );
    },
    connectError(error) {
      console.warn(`VU ${vu}: connect_error ${JSON.stringify(error)}`);
      check(error, { connected: () => false });
    },
    events: {
      message(msg) {
        if (!msg || typeof msg.text !== 'string' || msg.text.indexOf('k6|') !== 0) return;
        const [, at, from, n] = msg.text.split('|');
        e2eLatency.add(Date.now() - Number(at));
        received.add(1);
        if (Number(at) >= WINDOW_START_MS && Number(at) < WINDOW_END_MS) windowReceived.add(1);
        if (Number(from) === vu && outstanding[n] !== undefined) {
          delete outstanding[n];
          deliveryRatio.add(true);
        }
      },
    },
  });
  check(res, { 'websocket upgraded': (r) => r && r.status === 101 });
}
