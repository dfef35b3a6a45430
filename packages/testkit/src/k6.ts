import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The first executable `k6` file in the folders of `path` (PATH), or undefined when there is none. */
export function findK6(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, 'k6');
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why the k6 tests of a file are skipped where there is no k6. */
export const K6_SKIPPED = 'no k6 on PATH (.ci/run puts ../shared/bin on PATH when it exists)';

/**
 * For a test file that runs k6: the k6 on PATH, or undefined after printing that `what` is
 * skipped (the file then skips them, with K6_SKIPPED in their name). Throws when
 * PARLEY_K6_REQUIRED is set (`.ci/run` sets it when ../shared/bin/k6 exists): there, no k6 is a
 * failure, not a skip.
 */
export function k6ForTests(what: string): string | undefined {
  const k6 = findK6();
  if (k6) return k6;
  if (process.env.PARLEY_K6_REQUIRED) throw new Error(`PARLEY_K6_REQUIRED is set but there is no k6 on PATH (${process.env.PATH ?? ''})`);
  console.warn(`${what} skipped: ${K6_SKIPPED}`);
  return undefined;
}

/** k6's exit codes (go.k6.io/k6/errext/exitcodes) worth a name in a failure message. */
const EXIT_CODES: Record<number, string> = {
  97: 'cloud test run failed',
  98: 'cloud failed to get progress',
  99: 'thresholds have failed',
  100: 'setup timeout',
  101: 'teardown timeout',
  102: 'generic timeout',
  103: 'generic engine error',
  104: 'invalid config',
  105: 'external abort',
  106: 'cannot start REST API',
  107: 'script exception',
  108: 'script aborted',
  109: 'Go panic',
};

/** One metric of k6's `--summary-export` file (the keys depend on its type and `--summary-trend-stats`). */
export interface K6SummaryMetric {
  /** Each threshold expression -> whether it failed. */
  thresholds?: Record<string, boolean>;
  [stat: string]: number | Record<string, boolean> | undefined;
}

export interface K6Summary {
  metrics: Record<string, K6SummaryMetric>;
}

export interface K6Run {
  /** k6's exit code (null when killed). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The end-of-test summary as exported, when k6 got that far. */
  summary?: K6Summary;
  /** The thresholds of the run, from its summary: metric (or sub-metric) -> expressions. */
  thresholds: Record<string, string[]>;
  /** Messages of k6's error-level log lines: exceptions in the init context, setup(), VU code or event handlers. */
  errors: string[];
  /** Everything that makes this run a failure; empty when it passed. */
  problems: string[];
  durationMs: number;
}

export interface K6RunOptions {
  /** Passed with `-e NAME=value` (the scripts' `__ENV`). */
  env?: Record<string, string | number>;
  /** More `k6 run` arguments (`--local-ips …`). */
  args?: string[];
  /** The executable. @default findK6() */
  k6?: string;
  /** k6 is killed after this long (its run then fails). @default 120_000 */
  timeoutMs?: number;
}

/** Trend statistics exported; `count` tells a Trend with no samples from one whose samples are 0. */
const TREND_STATS = 'avg,min,med,max,p(90),p(95),p(99),count';

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

function exec(file: string, args: string[], timeoutMs: number): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close': everything it printed has been read.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Messages of the error-level lines of k6's `--log-format json` output (other lines are ignored). */
export function k6Errors(stderr: string): string[] {
  const errors: string[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' || entry.level === 'fatal' || entry.level === 'panic') errors.push(String(entry.msg).trim());
    } catch {
      // not a log line
    }
  }
  return errors;
}

/**
 * How many samples a metric of the summary export got: `count` of a Counter or a Trend (with
 * `count` among the trend stats), `passes + fails` of a Rate; undefined for a Gauge, whose
 * export (value, min, max) looks the same with no sample as with one sample of 0.
 */
export function k6SampleCount(metric: K6SummaryMetric): number | undefined {
  if (typeof metric.passes === 'number' && typeof metric.fails === 'number') return metric.passes + metric.fails;
  if (typeof metric.count === 'number') return metric.count;
  return undefined;
}

/**
 * Why a k6 run failed, in words (empty when it passed): a non-zero exit (failed threshold, script
 * error), error-level log lines (exceptions in VU code or event handlers, which k6 logs and
 * carries on with exit code 0), a failed threshold, and a threshold that got no samples (which
 * k6 0.48 counts as passed).
 */
export function k6Problems(run: Pick<K6Run, 'code' | 'errors' | 'summary'>): string[] {
  const problems: string[] = [];
  if (run.code !== 0) {
    const name = run.code === null ? 'killed' : (EXIT_CODES[run.code] ?? 'unknown exit code');
    problems.push(`k6 exited with ${run.code} (${name})`);
  }
  for (const error of run.errors) problems.push(`k6 logged an error: ${error}`);
  if (!run.summary) {
    problems.push('k6 wrote no summary');
    return problems;
  }
  for (const [name, metric] of Object.entries(run.summary.metrics)) {
    if (!metric.thresholds) continue;
    const expressions = Object.keys(metric.thresholds).join(', ');
    const samples = k6SampleCount(metric);
    if (samples === undefined)
      problems.push(`threshold on ${name}: cannot tell whether it got samples (a Gauge?); threshold a Trend, Rate or Counter`);
    else if (samples === 0) problems.push(`threshold on ${name} (${expressions}): no samples (k6 counts it as passed)`);
    for (const [expression, failed] of Object.entries(metric.thresholds)) {
      if (failed) problems.push(`threshold failed: ${name} ${expression} (${describeMetric(metric)})`);
    }
  }
  return problems;
}

/** The order `describeMetric` lists a metric's values in; any others come after. */
const VALUE_ORDER = ['count', 'value', 'avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'];

/** A metric's values in one short line: `count=40 avg=3 … max=12.3` / `rate=1 (40/40)`. */
export function describeMetric(metric: K6SummaryMetric): string {
  const round = (n: number) => Math.round(n * 100) / 100;
  if (typeof metric.passes === 'number' && typeof metric.fails === 'number') {
    return `rate=${round(metric.passes / (metric.passes + metric.fails || 1))} (${metric.passes}/${metric.passes + metric.fails})`;
  }
  const rank = (key: string) => (VALUE_ORDER.includes(key) ? VALUE_ORDER.indexOf(key) : VALUE_ORDER.length);
  return Object.entries(metric)
    .flatMap(([key, value]) => (typeof value === 'number' && key !== 'rate' ? [[key, value] as const] : []))
    .sort(([a], [b]) => rank(a) - rank(b))
    .map(([key, value]) => `${key}=${round(value)}`)
    .join(' ');
}

/**
 * `k6 run` a script and judge it (see `k6Problems`): the summary exported to a temporary file
 * (every thresholded metric is in it, with or without samples: k6 marks them observed), logs as
 * JSON lines, no REST API server (its default port is fixed) and no usage report.
 */
export async function runK6(script: string, options: K6RunOptions = {}): Promise<K6Run> {
  const k6 = options.k6 ?? findK6();
  if (!k6) throw new Error('no k6 on PATH');
  const timeoutMs = options.timeoutMs ?? 120_000;
  const envArgs = Object.entries(options.env ?? {}).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  const dir = await mkdtemp(join(tmpdir(), 'parley-k6-'));
  const started = Date.now();
  try {
    const summaryFile = join(dir, 'summary.json');
    const ran = await exec(
      k6,
      [
        'run',
        '--quiet',
        '--no-color',
        '--no-usage-report',
        '--address',
        '',
        '--log-format',
        'json',
        '--summary-trend-stats',
        TREND_STATS,
        '--summary-export',
        summaryFile,
        ...envArgs,
        ...(options.args ?? []),
        script,
      ],
      timeoutMs,
    );
    const summary = await readFile(summaryFile, 'utf8').then(
      (text) => JSON.parse(text) as K6Summary,
      () => undefined,
    );
    const thresholds: Record<string, string[]> = {};
    for (const [name, metric] of Object.entries(summary?.metrics ?? {})) {
      if (metric.thresholds) thresholds[name] = Object.keys(metric.thresholds);
    }
    const run = { code: ran.code, stdout: ran.stdout, stderr: ran.stderr, summary, thresholds, errors: k6Errors(ran.stderr) };
    const problems = k6Problems(run);
    if (ran.timedOut) problems.unshift(`k6 killed after ${timeoutMs} ms`);
    return { ...run, problems, durationMs: Date.now() - started };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
