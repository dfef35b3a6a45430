/** One sample of Prometheus' text format: `name{labels} value`. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A node's `GET /metrics`, parsed. */
export interface Scrape {
  text: string;
  samples: Sample[];
  /** Metric families by name (`# TYPE` lines) and their type. */
  types: Map<string, string>;
  /** Sum of the samples named `name` whose labels include `labels` (0 when there is none). */
  value(name: string, labels?: Record<string, string>): number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const unescape = (value: string) => value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** Parse Prometheus' text exposition format (what prom-client writes); throws on a line it cannot read. */
export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line of the text format: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, name, value] of (match[2] ?? '').matchAll(LABEL)) labels[name as string] = unescape(value as string);
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  const value = (name: string, wanted: Record<string, string> = {}) =>
    samples
      .filter((s) => s.name === name && Object.entries(wanted).every(([k, v]) => s.labels[k] === v))
      .reduce((sum, s) => sum + s.value, 0);
  return { text, samples, types, value };
}

/** `GET /metrics` of the node at `baseUrl` (with `token` as its bearer token), parsed; throws unless 200. */
export async function scrapeMetrics(baseUrl: string, token?: string): Promise<Scrape> {
  const res = await fetch(new URL('/metrics', baseUrl), {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${text}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) {
    throw new Error(`GET /metrics: content type ${res.headers.get('content-type')}`);
  }
  return parseMetrics(text);
}

/** Every PromQL query of a Grafana dashboard (parsed JSON): panel targets, rows' nested panels, template variables. */
export function dashboardQueries(dashboard: unknown): string[] {
  if (Array.isArray(dashboard)) return dashboard.flatMap(dashboardQueries);
  if (typeof dashboard !== 'object' || dashboard === null) return [];
  return Object.entries(dashboard).flatMap(([key, v]) =>
    (key === 'expr' || key === 'query' || key === 'definition') && typeof v === 'string' ? [v] : dashboardQueries(v),
  );
}

/** The metric names a PromQL query reads: Parley's (parley_*) and the process's (process_*, nodejs_*). */
export function metricNames(query: string): string[] {
  return query.match(/\b(?:parley|process|nodejs)_[a-zA-Z0-9_]+/g) ?? [];
}
