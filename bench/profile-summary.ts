/**
 * Where a node spent its CPU, from V8 CPU profiles (`pnpm bench --profile DIR` writes one per
 * Parley node): self time grouped by package (node_modules/<package>, Parley's own workspace
 * packages, Node's internals, GC, idle), the functions with the most self time, and the
 * inclusive time of Parley's own functions (a handler with everything it calls). Several
 * profiles are summed.
 *
 *   node --import tsx bench/profile-summary.ts .tmp/prof/*.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({ options: { top: { type: 'string', default: '25' } }, allowPositionals: true });
const top = Number(values.top);

/** The package a frame belongs to: an npm package, a Parley workspace package, or Node/V8 itself. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(services|packages)\/([^/]+)\//.exec(url);
  return own ? `parley ${own[2]}` : url;
}

const label = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|services|packages)\//, '$1/')}:${f.lineNumber + 1}`;

const self = new Map<string, number>();
const byPackage = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id)!;
    total += us;
    add(self, label(node.callFrame), us);
    add(byPackage, packageOf(node.callFrame), us);
    // Each of Parley's own functions on the stack once, however deep it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (!packageOf(frame).startsWith('parley ')) continue;
      const key = label(frame);
      if (!seen.has(key)) {
        seen.add(key);
        add(inclusive, key, us);
      }
    }
  });
}

const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
const table = (title: string, map: Map<string, number>, rows: number) => {
  process.stdout.write(`\n| ${title} | share of CPU time |\n| --- | --- |\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, rows)) process.stdout.write(`| \`${key}\` | ${pct(us)} |\n`);
};
process.stdout.write(`${positionals.length} profile(s), ${(total / 1e6).toFixed(1)} s sampled\n`);
table('package (self time)', byPackage, top);
table('function (self time)', self, top);
table("Parley's functions (inclusive time)", inclusive, top);
