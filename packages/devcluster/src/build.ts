import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The workspace packages `pnpm build` compiles (the projects tsconfig.build.json references), each
 * from `src/` to `dist/`, relative to the repository root: what a gateway process runs.
 */
export const COMPILED_PACKAGES = ['packages/protocol', 'packages/config', 'packages/db', 'services/gateway'] as const;

/**
 * The export condition that makes `@parley/*` resolve to `dist/*.js` (`node --conditions=parley-dist`).
 * Without it every package resolves to its TypeScript source (tsx, vitest, tsc --noEmit).
 */
export const DIST_CONDITION = 'parley-dist';

/** dist/ is missing or older than its sources. */
export class BuildError extends Error {
  override name = 'BuildError';
}

/** The most recently modified file at `path` (itself, or the newest under it), or undefined when there is none. */
export function newestFile(path: string): { file: string; mtimeMs: number } | undefined {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return undefined;
  }
  if (!stat.isDirectory()) return { file: path, mtimeMs: stat.mtimeMs };
  let newest: { file: string; mtimeMs: number } | undefined;
  for (const entry of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const { mtimeMs } = statSync(file);
    if (!newest || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  }
  return newest;
}

/**
 * Throws a BuildError unless every compiled package under `root` has a `dist/` at least as new as
 * its newest source file (`tsc -b` writes or touches `dist/.tsbuildinfo` whenever it checked a
 * project, so an up-to-date build is never reported stale). Cheap: a stat per source file.
 */
export function checkBuild(root: string, packages: readonly string[] = COMPILED_PACKAGES): void {
  for (const pkg of packages) {
    let built: number;
    try {
      built = statSync(join(root, pkg, 'dist', '.tsbuildinfo')).mtimeMs;
    } catch {
      throw new BuildError(`${pkg} is not built (no ${pkg}/dist): run \`pnpm build\``);
    }
    const newest = newestFile(join(root, pkg, 'src'));
    if (newest && newest.mtimeMs > built) {
      throw new BuildError(`${pkg}/dist is older than ${newest.file.slice(root.length)}: run \`pnpm build\``);
    }
  }
}
