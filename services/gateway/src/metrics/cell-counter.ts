import { Counter, type Registry } from 'prom-client';

/** One series of a CellCounter: add to `value` (never subtract). */
export interface Cell {
  value: number;
}

/**
 * A prom-client Counter for hot paths. prom-client's `inc(labels)` builds a key from the labels on
 * every call; here each label set gets a cell once (`cell(...)`, kept by the caller) and counting is
 * a plain addition. The counter reads its cells when scraped. Every cell exists from its creation,
 * at 0, so its series is there before the first increment (Prometheus' `rate()` needs that).
 */
export class CellCounter<L extends string> {
  private readonly cells = new Map<string, { labels: Partial<Record<L, string>>; cell: Cell }>();

  constructor(
    registry: Registry,
    name: string,
    help: string,
    private readonly labelNames: readonly L[],
  ) {
    const cells = this.cells;
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const { labels, cell } of cells.values()) this.inc(labels, cell.value);
      },
    });
  }

  /** The cell of the series with these label values, in the order of the label names. */
  cell(...values: string[]): Cell {
    if (values.length !== this.labelNames.length) throw new Error(`expected ${this.labelNames.length} label values, got ${values.length}`);
    const key = values.join('\u0000');
    let entry = this.cells.get(key);
    if (!entry) {
      const labels = Object.fromEntries(this.labelNames.map((name, i) => [name, values[i] as string])) as Partial<Record<L, string>>;
      entry = { labels, cell: { value: 0 } };
      this.cells.set(key, entry);
    }
    return entry.cell;
  }

  /** `cell` by name for each of `names`, the rest to `fallback`'s cell: for labels whose values come from clients. */
  lookup(prefix: string[], names: readonly string[], fallback: string): (name: string) => Cell {
    const known = new Map(names.map((name) => [name, this.cell(...prefix, name)]));
    const other = this.cell(...prefix, fallback);
    return (name) => known.get(name) ?? other;
  }
}
