/** Shared by the command-line tools (loadgen, chaos): flags read once, bad values end the process with exit code 2. */

/** `--help`: print the usage and exit 0. */
export function helpRequested(help: boolean | undefined, usage: string): void {
  if (!help) return;
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

/** A numeric flag: undefined when absent; a value that is not a number ≥ 0 (> 0 with `positive`) exits 2. */
export function numberFlag(name: string, raw: string | undefined, { positive = false } = {}): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (positive && n === 0)) {
    process.stderr.write(`--${name} must be a ${positive ? 'positive' : 'non-negative'} number, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}
