/**
 * Where a target spent its CPU, from the V8 CPU profiles `pnpm bench --profile DIR` writes
 * (DIR/parley, DIR/lesson: one per process). Only samples inside the measured windows count
 * (DIR/<target>/windows.json, written by the bench, on the clock V8 profiles use), so set-up
 * (registration, connection) and teardown are left out, and busy time is divided by the
 * deliveries of those windows: microseconds of a process's CPU per delivery, by package (npm
 * package, Parley's own workspace package, Node's internals, GC, native code such as the
 * kernel write), by function, and the inclusive time of Parley's own functions (a handler with
 * everything it calls). Time the thread spent waiting for a core on a busy machine counts as
 * the function it was in: compare targets profiled in one run.
 *
 * `--flame FILE.svg` also writes a flame graph (icicle: callers above callees, width = busy time
 * in the windows, colour = package; hover a frame for its µs per delivery) that any browser shows.
 *
 *   pnpm bench:profile-summary .tmp/prof/parley [--top 25] [--flame docs/profiles/parley.svg]
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readProfileWindows } from './profile-windows.ts';

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
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, flame: { type: 'string' } },
  allowPositionals: true,
});
const top = Number(values.top);
const [dir] = positionals;
if (dir === undefined) throw new Error('usage: profile-summary <folder of .cpuprofile files and windows.json> [--top N]');

/** The package a frame belongs to: an npm package, a Parley workspace package, or Node/V8 itself. */
function packageOf({ url, functionName }: CallFrame): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const [scope, name] = url.slice(modules + '/node_modules/'.length).split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(services|packages|bench)\/([^/]+)/.exec(url);
  return own ? `parley ${own[2]}` : url;
}
const isOwn = (frame: CallFrame) => packageOf(frame).startsWith('parley ');
const label = (f: CallFrame) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|services|packages|bench)\//, '$1/')}:${f.lineNumber + 1}`;

const windows = readProfileWindows(dir);
if (windows.length === 0) throw new Error(`${dir} has no windows.json: profile it with pnpm bench --profile`);
const deliveries = windows.reduce((n, w) => n + w.delivered, 0);
const inWindow = (us: number) => windows.some((w) => us >= w.startMs * 1000 && us < w.endMs * 1000);

const self = new Map<string, number>();
const byPackage = new Map<string, number>();
const inclusive = new Map<string, number>();
let busy = 0;
const add = (map: Map<string, number>, key: string, us: number) => map.set(key, (map.get(key) ?? 0) + us);

/** A frame of the merged call tree (all profiles, window samples only), for the flame graph. */
interface Flame {
  frame: CallFrame;
  us: number;
  parent?: Flame;
  children: Map<string, Flame>;
}
const flameRoot: Flame = { frame: { functionName: 'all', url: '', lineNumber: -1 }, us: 0, children: new Map() };

const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
for (const file of files) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Each profile node's frame in the merged tree (V8's "(root)" is the tree's root).
  const merged = new Map<number, Flame>();
  const flameOf = (id: number): Flame => {
    let flame = merged.get(id);
    if (flame) return flame;
    const up = parent.get(id);
    const frame = byId.get(id)!.callFrame;
    if (up === undefined) flame = flameRoot;
    else {
      const above = flameOf(up);
      const key = label(frame);
      flame = above.children.get(key);
      if (!flame) above.children.set(key, (flame = { frame, us: 0, parent: above, children: new Map() }));
    }
    merged.set(id, flame);
    return flame;
  };
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    at += us;
    const frame = byId.get(id)!.callFrame;
    if (!inWindow(at) || frame.functionName === '(idle)') return;
    busy += us;
    for (let flame: Flame | undefined = flameOf(id); flame; flame = flame.parent) flame.us += us;
    add(self, label(frame), us);
    add(byPackage, packageOf(frame), us);
    // Each of Parley's own functions on the stack once, however deep it recurses.
    const seen = new Set<string>();
    for (let node: number | undefined = id; node !== undefined; node = parent.get(node)) {
      const key = label(byId.get(node)!.callFrame);
      if (isOwn(byId.get(node)!.callFrame) && !seen.has(key)) {
        seen.add(key);
        add(inclusive, key, us);
      }
    }
  });
}

const perDelivery = (us: number) => (us / deliveries).toFixed(2);
const share = (us: number) => `${((100 * us) / busy).toFixed(1)} %`;
const out: string[] = [
  `${files.length} profile(s), ${windows.length} window(s), ${deliveries} deliveries: ` +
    `${perDelivery(busy)} µs of busy time per delivery (all profiled processes)`,
];
const table = (title: string, map: Map<string, number>) => {
  out.push('', `| ${title} | µs / delivery | share of busy time |`, '| --- | --- | --- |');
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top))
    out.push(`| \`${key}\` | ${perDelivery(us)} | ${share(us)} |`);
};
table('package (self time)', byPackage);
table('function (self time)', self);
table("Parley's functions (inclusive time)", inclusive);
process.stdout.write(`${out.join('\n')}\n`);

/** The merged call tree as an SVG icicle graph, `width` pixels wide. */
function flameGraph(root: Flame, width = 1200): string {
  const ROW = 17;
  const hue = (name: string) => [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const rects: string[] = [];
  let depth = 0;
  const draw = (flame: Flame, x: number, level: number) => {
    const w = (flame.us / root.us) * width;
    if (w < 0.4) return;
    depth = Math.max(depth, level + 1);
    const pkg = flame === root ? '' : packageOf(flame.frame);
    const name = flame === root ? 'all' : label(flame.frame);
    const fill = pkg.startsWith('parley ') ? 'hsl(210,70%,70%)' : pkg === '(native)' ? 'hsl(5,70%,70%)' : `hsl(${hue(pkg)},45%,78%)`;
    const title = `${name}${pkg ? ` [${pkg}]` : ''}: ${perDelivery(flame.us)} µs per delivery, ${share(flame.us)}`;
    const text =
      w > 40 ? `<text x="${(x + 3).toFixed(1)}" y="${level * ROW + 12}">${escape(name.slice(0, Math.floor((w - 6) / 6.7)))}</text>` : '';
    rects.push(
      `<g><title>${escape(title)}</title><rect x="${x.toFixed(1)}" y="${level * ROW}" width="${w.toFixed(1)}" height="${ROW - 1}" fill="${fill}"/>${text}</g>`,
    );
    let childX = x;
    for (const child of [...flame.children.values()].sort((a, b) => b.us - a.us)) {
      draw(child, childX, level + 1);
      childX += (child.us / root.us) * width;
    }
  };
  draw(root, 0, 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${depth * ROW}" font-family="monospace" font-size="11">`,
    ...rects,
    '</svg>',
    '',
  ].join('\n');
}
if (values.flame) {
  if (flameRoot.us === 0) throw new Error(`${dir}: no busy time inside the measured windows, nothing to draw`);
  writeFileSync(values.flame, flameGraph(flameRoot));
  process.stderr.write(`flame graph: ${values.flame}\n`);
}
