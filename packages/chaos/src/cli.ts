#!/usr/bin/env -S node --import tsx
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { helpRequested, numberFlag } from '@parley/loadgen';
import { CHAOS_DEFAULTS, type ChaosOptions } from './options.ts';
import { formatChaosReport } from './report.ts';
import { runChaos } from './scenario.ts';

const D = CHAOS_DEFAULTS;
const USAGE = `pnpm chaos: a private cluster (PostgreSQL, Redis, 3 gateway processes, nginx, all on free
ports) under chat load from @parley/client clients; during the chat node-1 is killed with
SIGKILL (and restarted), Redis is stopped and started, PostgreSQL is stopped for a while. Then
every acked message must be stored once and reach every member of its room once.
Exits 1 on any loss, duplicate, missing delivery, crash or recovery that did not happen.

  --clients N        clients, one user each (default ${D.clients})
  --rooms N          rooms (default ${D.rooms})
  --rate R           messages/s per client (default ${D.rate})
  --duration S       seconds of steady chat, split over the 4 phases around the faults (default ${(4 * D.phaseMs) / 1000})
  --redis-down S     seconds Redis stays down (default ${D.redisDownMs / 1000})
  --pg-down S        seconds PostgreSQL stays stopped (default ${D.postgresDownMs / 1000})
  --json FILE        also write the report as JSON
  --logs DIR         write each gateway process's log lines to DIR at the end
  --quiet            no progress lines`;

const { values } = parseArgs({
  options: {
    clients: { type: 'string' },
    rooms: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    'redis-down': { type: 'string' },
    'pg-down': { type: 'string' },
    json: { type: 'string' },
    logs: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
helpRequested(values.help, USAGE);
const number = (name: string, raw: string | undefined) => numberFlag(name, raw, { positive: true });

const seconds = (name: string, raw: string | undefined) => {
  const n = number(name, raw);
  return n === undefined ? undefined : n * 1000;
};
const duration = seconds('duration', values.duration);
const options: Partial<ChaosOptions> = {
  clients: number('clients', values.clients),
  rooms: number('rooms', values.rooms),
  rate: number('rate', values.rate),
  phaseMs: duration === undefined ? undefined : duration / 4,
  redisDownMs: seconds('redis-down', values['redis-down']),
  postgresDownMs: seconds('pg-down', values['pg-down']),
  logDir: values.logs,
};
// Unset flags fall back to the defaults.
for (const key of Object.keys(options) as (keyof ChaosOptions)[]) if (options[key] === undefined) delete options[key];
const started = Date.now();
const report = await runChaos({
  ...options,
  log: values.quiet ? () => {} : (line) => process.stderr.write(`[chaos ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`),
}).catch((err: unknown) => {
  process.stderr.write(`chaos: the run did not complete: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
process.stdout.write(`${formatChaosReport(report)}\n`);
process.exit(report.ok ? 0 : 1);
