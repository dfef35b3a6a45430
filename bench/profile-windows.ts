import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One measured window of a profiled target (`pnpm bench --profile`), on process.hrtime's clock. */
export interface ProfileWindow {
  /** The folder the target's processes write their profiles into. */
  dir: string;
  run: string;
  delivered: number;
  startMs: number;
  endMs: number;
}

const FILE = 'windows.json';

/** Write each folder's windows into it, for bench/profile-summary.ts. */
export function writeProfileWindows(windows: ProfileWindow[]): void {
  for (const dir of new Set(windows.map((w) => w.dir))) {
    writeFileSync(
      join(dir, FILE),
      `${JSON.stringify(
        windows.filter((w) => w.dir === dir),
        null,
        2,
      )}\n`,
    );
  }
}

/** The windows recorded in `dir`, none when it has no record. */
export function readProfileWindows(dir: string): ProfileWindow[] {
  const file = join(dir, FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ProfileWindow[]) : [];
}
