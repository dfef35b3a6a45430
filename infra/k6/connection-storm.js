// Connection storm: VUs ramp up to PEAK, each one connecting with a JWT (USERS users, one
// token per user shared by its "devices"), holding the socket HOLD_S seconds, then again.
import { check } from 'k6';
import exec from 'k6/execution';
import { Rate, Trend } from 'k6/metrics';
import { registerMany, uniqueUsername } from './lib/http.js';
import { connectSocketIO } from './lib/socketio.js';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:8080';
const PEAK = Number(__ENV.PEAK || 2000);
const USERS = Number(__ENV.USERS || 100);
const RAMP = __ENV.RAMP || '60s';
const HOLD_S = Number(__ENV.HOLD_S || 20);
const RAMP_DOWN = __ENV.RAMP_DOWN || '10s';

const connectTime = new Trend('sio_connect_time', true);
const connectSuccess = new Rate('sio_connect_success');

export const options = {
  setupTimeout: '300s',
  scenarios: {
    storm: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: RAMP, target: PEAK },
        { duration: `${HOLD_S * 2}s`, target: PEAK },
        { duration: RAMP_DOWN, target: 0 },
      ],
      gracefulRampDown: `${HOLD_S + 10}s`,
    },
  },
  thresholds: {
    sio_connect_success: ['rate>0.99'],
    sio_connect_time: [`p(95)<${__ENV.P95_MS || 1000}`, `p(99)<${__ENV.P99_MS || 3000}`],
  },
};

export function setup() {
  const names = Array.from({ length: USERS }, (_, i) => uniqueUsername('k6s', i));
  return { tokens: registerMany(BASE_URL, names).map((s) => s.token) };
}

export default function (data) {
  const token = data.tokens[exec.vu.idInTest % data.tokens.length];
  const started = Date.now();
  let connected = false;
  const res = connectSocketIO(BASE_URL, '/', token, {
    connect(client) {
      connected = true;
      connectTime.add(Date.now() - started);
      client.setTimeout(() => client.close(), HOLD_S * 1000);
    },
    connectError() {},
  });
  connectSuccess.add(connected);
  check(res, { 'websocket upgraded': (r) => r && r.status === 101 });
}
