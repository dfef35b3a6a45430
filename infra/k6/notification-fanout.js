// Notification fan-out: one author with FOLLOWERS followers, each connected to
// '/notifications'. After CONNECT_S seconds the author creates a post; every follower
// must get its 'notification' (type 'new_post') within WAIT_S.
import { check } from 'k6';
import exec from 'k6/execution';
import { Rate, Trend } from 'k6/metrics';
import { createPost, followAll, register, registerMany, uniqueUsername } from './lib/http.js';
import { connectSocketIO } from './lib/socketio.js';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:8080';
const FOLLOWERS = Number(__ENV.FOLLOWERS || 1000);
const CONNECT_S = Number(__ENV.CONNECT_S || 20);
const WAIT_S = Number(__ENV.WAIT_S || 30);

const postDuration = new Trend('post_create_duration', true);
/** Server time of the notification to its arrival (same clock when k6 runs beside the cluster). */
const notificationLatency = new Trend('notification_latency', true);
const delivered = new Rate('notification_delivered');

export const options = {
  setupTimeout: '600s',
  scenarios: {
    followers: { executor: 'per-vu-iterations', vus: FOLLOWERS, iterations: 1, maxDuration: `${CONNECT_S + WAIT_S + 30}s` },
    author: { executor: 'shared-iterations', vus: 1, iterations: 1, startTime: `${CONNECT_S}s`, exec: 'author' },
  },
  thresholds: {
    notification_delivered: ['rate>=0.999'],
    notification_latency: [`max<${__ENV.LAST_MS || 2000}`],
    post_create_duration: [`max<${__ENV.POST_MS || 300}`],
  },
};

export function setup() {
  const author = register(BASE_URL, uniqueUsername('k6a', 0));
  const names = Array.from({ length: FOLLOWERS }, (_, i) => uniqueUsername('k6f', i));
  const followers = registerMany(BASE_URL, names);
  followAll(BASE_URL, author.user.id, followers);
  return { author: author.token, followers: followers.map((f) => f.token) };
}

export default function (data) {
  // Not exec.vu.idInTest: VU ids are shared with the author's scenario, which may get any of them.
  const token = data.followers[exec.scenario.iterationInTest];
  let got = false;
  const res = connectSocketIO(BASE_URL, '/notifications', token, {
    connect(client) {
      client.setTimeout(() => client.close(), (CONNECT_S + WAIT_S) * 1000);
    },
    connectError(error) {
      console.warn(`follower ${exec.scenario.iterationInTest}: connect_error ${JSON.stringify(error)}`);
      check(error, { connected: () => false });
    },
    events: {
      notification(n) {
        if (got || !n || n.type !== 'new_post') return;
        got = true;
        notificationLatency.add(Date.now() - Date.parse(n.timestamp));
      },
    },
  });
  delivered.add(got);
  check(res, { 'websocket upgraded': (r) => r && r.status === 101 });
}

export function author(data) {
  const res = createPost(BASE_URL, data.author, 'k6 fan-out', `posted at ${Date.now()}`);
  postDuration.add(res.timings.duration);
  check(res, { 'post created': (r) => r.status === 201 });
}
