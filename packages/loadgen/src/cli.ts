#!/usr/bin/env -S node --import tsx
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { helpRequested, numberFlag } from './flags.ts';
import { DEFAULTS, type LoadOptions } from './options.ts';
import { formatReport } from './report.ts';
import { runLoad } from './run.ts';

const USAGE = `parley-loadgen: Socket.IO chat load against Parley (or the bench servers)

  --target URL        node or nginx base URL; repeat for several nodes (default ${DEFAULTS.targets[0]})
  --auth-url URL      where users register (default: the first target)
  --no-auth           connect without tokens (lesson server, raw ws)
  --protocol P        socketio | raw (default ${DEFAULTS.protocol})
  --transport T       websocket | polling (default ${DEFAULTS.transport})
  --clients N         connections (default ${DEFAULTS.clients})
  --users N           distinct users; connections share tokens (default: clients)
  --rooms N           rooms (default ${DEFAULTS.rooms})
  --senders N         sending clients (default ${DEFAULTS.senders})
  --rate R            messages/s per sender (default ${DEFAULTS.rate})
  --warmup S          seconds before measuring (default ${DEFAULTS.warmup})
  --duration S        measured seconds (default ${DEFAULTS.duration})
  --workers N         generator threads (default ${DEFAULTS.workers})
  --idle              connect only; report RSS per connection of --server-pid processes
  --no-ack            do not request chatMessage acks
  --source-ips N      spread clients over 127.0.0.1..127.0.0.N (default ${DEFAULTS.sourceIps})
  --padding N         extra characters per message (default ${DEFAULTS.padding})
  --server-pid L=PID  a server process to measure (repeat), e.g. node-1=4242
  --redis-port P      count that redis-server's CPU as server CPU
  --pg-database DB    count that database's PostgreSQL backends' CPU as server CPU
  --json FILE         also write the report as JSON ('-' = stdout instead of the table)
  --quiet             no progress on stderr`;

const { values } = parseArgs({
  options: {
    target: { type: 'string', multiple: true },
    'auth-url': { type: 'string' },
    'no-auth': { type: 'boolean' },
    protocol: { type: 'string' },
    transport: { type: 'string' },
    clients: { type: 'string' },
    users: { type: 'string' },
    rooms: { type: 'string' },
    senders: { type: 'string' },
    rate: { type: 'string' },
    warmup: { type: 'string' },
    duration: { type: 'string' },
    workers: { type: 'string' },
    idle: { type: 'boolean' },
    'no-ack': { type: 'boolean' },
    'source-ips': { type: 'string' },
    padding: { type: 'string' },
    'server-pid': { type: 'string', multiple: true },
    'redis-port': { type: 'string' },
    'pg-database': { type: 'string' },
    json: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});

helpRequested(values.help, USAGE);
const number = (name: string, raw: string | undefined) => numberFlag(name, raw);

function oneOf<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!allowed.includes(raw as T)) {
    process.stderr.write(`--${name} must be one of ${allowed.join(', ')}\n`);
    process.exit(2);
  }
  return raw as T;
}

const options: Partial<LoadOptions> = {
  targets: values.target,
  authUrl: values['auth-url'],
  auth: values['no-auth'] ? false : undefined,
  protocol: oneOf('protocol', values.protocol, ['socketio', 'raw'] as const),
  transport: oneOf('transport', values.transport, ['websocket', 'polling'] as const),
  clients: number('clients', values.clients),
  users: number('users', values.users),
  rooms: number('rooms', values.rooms),
  senders: number('senders', values.senders),
  rate: number('rate', values.rate),
  warmup: number('warmup', values.warmup),
  duration: number('duration', values.duration),
  workers: number('workers', values.workers),
  idle: values.idle,
  ack: values['no-ack'] ? false : undefined,
  sourceIps: number('source-ips', values['source-ips']),
  padding: number('padding', values.padding),
  serverPids: values['server-pid']?.map((entry) => {
    const [label, pid] = entry.includes('=') ? entry.split('=') : [`pid-${entry}`, entry];
    return { label: label!, pid: number('server-pid', pid)! };
  }),
  redisPort: number('redis-port', values['redis-port']),
  pgDatabase: values['pg-database'],
  progress: values.quiet ? false : undefined,
};
// Unset flags fall back to the defaults.
for (const key of Object.keys(options) as (keyof LoadOptions)[]) if (options[key] === undefined) delete options[key];

const report = await runLoad(options);
const json = JSON.stringify(report, null, 2);
if (values.json === '-') {
  process.stdout.write(`${json}\n`);
} else {
  if (values.json) writeFileSync(values.json, `${json}\n`);
  process.stdout.write(`${formatReport(report)}\n`);
}
