import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  describeMetric,
  findK6,
  K6_SKIPPED,
  k6Errors,
  k6ForTests,
  k6Problems,
  k6SampleCount,
  runK6,
  type K6Summary,
} from '@parley/testkit';

/**
 * runK6's verdict, which the k6 step of the cluster tests (services/gateway/test/cluster/k6.test.ts)
 * relies on: the judging on made-up k6 output always, and tiny deliberately failing scripts on
 * the real k6 when there is one on PATH.
 */
const k6 = k6ForTests('runK6 on the real k6');

const dir = mkdtempSync(join(tmpdir(), 'parley-k6-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runK6 verdict', () => {
  const summary = (metrics: K6Summary['metrics']): K6Summary => ({ metrics });

  it('passes a clean run whose thresholds passed over samples', () => {
    const metrics = {
      t: { count: 3, avg: 2, 'p(95)': 3, thresholds: { 'p(95)<10': false } },
      r: { passes: 2, fails: 0, value: 1, thresholds: { 'rate>0.5': false } },
      c: { count: 1, rate: 0.5, thresholds: { 'count>0': false } },
      untouched: { count: 0, avg: 0 },
    };
    expect(k6Problems({ code: 0, errors: [], summary: summary(metrics) })).toEqual([]);
  });

  it('fails on an exit code, an error logged, a failed threshold, a threshold without samples, a Gauge, no summary', () => {
    const metrics = {
      slow: { count: 3, 'p(95)': 30, thresholds: { 'p(95)<10': true, 'max<100': false } },
      'slow{tag:x}': { count: 0, 'p(95)': 0, thresholds: { 'max<5': false } },
      ratio: { passes: 0, fails: 0, value: 0, thresholds: { 'rate>=0.999': false } },
      sent: { count: 0, rate: 0, thresholds: { 'count>0': false } },
      level: { value: 0, min: 0, max: 0, thresholds: { 'value<1': false } },
    };
    expect(k6Problems({ code: 99, errors: ['Error: boom'], summary: summary(metrics) })).toEqual([
      'k6 exited with 99 (thresholds have failed)',
      'k6 logged an error: Error: boom',
      'threshold failed: slow p(95)<10 (count=3 p(95)=30)',
      'threshold on slow{tag:x} (max<5): no samples (k6 counts it as passed)',
      'threshold on ratio (rate>=0.999): no samples (k6 counts it as passed)',
      'threshold on sent (count>0): no samples (k6 counts it as passed)',
      'threshold on level: cannot tell whether it got samples (a Gauge?); threshold a Trend, Rate or Counter',
    ]);
    expect(k6Problems({ code: null, errors: [], summary: undefined })).toEqual(['k6 exited with null (killed)', 'k6 wrote no summary']);
  });

  it('reads error-level lines of k6 JSON logs only', () => {
    const stderr = [
      '{"level":"warning","msg":"connect_error {}"}',
      '{"level":"error","msg":"Error: boom in VU\\n\\tat file:///s.js:8:63(11)\\n","source":"stacktrace"}',
      'not json',
      '{"level":"info","msg":"hello"}',
    ].join('\n');
    expect(k6Errors(stderr)).toEqual(['Error: boom in VU\n\tat file:///s.js:8:63(11)']);
  });

  it('counts samples of Trends, Rates and Counters, not of Gauges', () => {
    expect(k6SampleCount({ count: 4, avg: 1 })).toBe(4);
    expect(k6SampleCount({ passes: 1, fails: 2, value: 0.33 })).toBe(3);
    expect(k6SampleCount({ value: 0, min: 0, max: 0 })).toBeUndefined();
    expect(describeMetric({ max: 9, 'p(95)': 8, count: 2, avg: 5.555, thresholds: {} })).toBe('count=2 avg=5.56 p(95)=8 max=9');
  });

  it('finds an executable k6 file on PATH only', () => {
    const bin = join(dir, 'bin');
    mkdirSync(join(bin, 'sub', 'k6'), { recursive: true });
    writeFileSync(join(bin, 'k6'), '');
    expect(findK6(bin)).toBeUndefined(); // not executable
    expect(findK6(join(bin, 'sub'))).toBeUndefined(); // a folder
    chmodSync(join(bin, 'k6'), 0o755);
    expect(findK6(['/nonexistent', '', bin].join(delimiter))).toBe(join(bin, 'k6'));
    expect(findK6('')).toBeUndefined();
  });
});

/** A tiny k6 script in the temporary folder. */
function script(name: string, code: string): string {
  const file = join(dir, name);
  writeFileSync(file, code);
  return file;
}

const HEADER = `import { Counter, Rate, Trend } from 'k6/metrics';
const latency = new Trend('latency', true);
const ok = new Rate('ok');
const sent = new Counter('sent');
`;

describe.skipIf(!k6)(`runK6 on the real k6${k6 ? '' : ` (skipped: ${K6_SKIPPED})`}`, () => {
  const run = (file: string, env: Record<string, string> = {}) => runK6(file, { k6, env, timeoutMs: 60_000 });

  it('passes a script whose thresholds pass over samples', async () => {
    const file = script(
      'passes.js',
      `${HEADER}export const options = { vus: 2, iterations: 4, thresholds: { latency: ['p(95)<100'], ok: ['rate==1'], sent: ['count==4'] } };
export default function () { latency.add(5); ok.add(true); sent.add(1); }
`,
    );
    const result = await run(file);
    expect(result.problems).toEqual([]);
    expect(result.code).toBe(0);
    expect(Object.keys(result.thresholds).sort()).toEqual(['latency', 'ok', 'sent']);
    expect(result.summary?.metrics.latency?.count).toBe(4);
  }, 60_000);

  it('fails on a failed threshold (k6 exits 99), also one made impossible from the command line', async () => {
    const file = script(
      'threshold.js',
      `${HEADER}export const options = { vus: 1, iterations: 2, thresholds: { latency: [\`p(95)<\${__ENV.P95_MS || 100}\`] } };
export default function () { latency.add(5); }
`,
    );
    expect((await run(file)).problems).toEqual([]);
    const result = await run(file, { P95_MS: '1' });
    expect(result.code).toBe(99);
    expect(result.problems).toContain('k6 exited with 99 (thresholds have failed)');
    expect(result.problems).toContainEqual(expect.stringMatching(/^threshold failed: latency p\(95\)<1 \(count=2 /));
  }, 60_000);

  it('fails on an exception in setup (k6 exits 107)', async () => {
    const file = script(
      'setup.js',
      `${HEADER}export const options = { vus: 1, iterations: 1, thresholds: { sent: ['count>0'] } };
export function setup() { throw new Error('register: HTTP 503'); }
export default function () { sent.add(1); }
`,
    );
    const result = await run(file);
    expect(result.code).toBe(107);
    expect(result.problems).toContain('k6 exited with 107 (script exception)');
    expect(result.problems).toContainEqual(expect.stringMatching(/^k6 logged an error: Error: register: HTTP 503/));
  }, 60_000);

  it('fails on an exception in VU code, which k6 only logs (exit 0)', async () => {
    const file = script(
      'vu.js',
      `${HEADER}export const options = { vus: 1, iterations: 2, thresholds: { sent: ['count>0'] } };
export default function () { sent.add(1); if (__ITER === 1) JSON.parse('{'); }
`,
    );
    const result = await run(file);
    expect(result.code).toBe(0);
    expect(result.problems).toEqual([expect.stringMatching(/^k6 logged an error: SyntaxError/)]);
  }, 60_000);

  it('fails on thresholds over no samples, which k6 passes (exit 0)', async () => {
    const file = script(
      'no-samples.js',
      `${HEADER}export const options = {
  vus: 1, iterations: 1,
  thresholds: { latency: ['p(95)<100'], ok: ['rate>=0.999'], sent: ['count>=0'], 'latency{kind:chat}': ['max<50'] },
};
export default function () { if (__ENV.SEND) { latency.add(5, { kind: 'chat' }); ok.add(true); sent.add(1); } }
`,
    );
    const result = await run(file);
    expect(result.code).toBe(0);
    expect(result.problems.sort()).toEqual([
      'threshold on latency (p(95)<100): no samples (k6 counts it as passed)',
      'threshold on latency{kind:chat} (max<50): no samples (k6 counts it as passed)',
      'threshold on ok (rate>=0.999): no samples (k6 counts it as passed)',
      'threshold on sent (count>=0): no samples (k6 counts it as passed)',
    ]);
    expect((await run(file, { SEND: '1' })).problems).toEqual([]);
  }, 60_000);
});
