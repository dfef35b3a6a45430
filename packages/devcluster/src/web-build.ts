import { utimesSync, writeFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BuildError, newestFile } from './build.ts';

/** The web app's package (Vite): its bundle, `dist/`, is what every gateway serves at `/` and `/console/`. */
export const WEB_PACKAGE = 'packages/web';
/**
 * What the bundle is made of, relative to the repository root: the pages, the Vite and TypeScript
 * configuration, the sources, the workspace packages it bundles, and the lockfile (the versions of
 * Preact, Vite…).
 */
const WEB_INPUTS = [
  `${WEB_PACKAGE}/index.html`,
  `${WEB_PACKAGE}/console`,
  `${WEB_PACKAGE}/src`,
  `${WEB_PACKAGE}/vite.config.ts`,
  `${WEB_PACKAGE}/tsconfig.json`,
  `${WEB_PACKAGE}/package.json`,
  'packages/client/src',
  'packages/protocol/src',
  'pnpm-lock.yaml',
];
/** Written after a successful build, dated when that build started: a source saved during the build leaves it stale. */
const STAMP = `${WEB_PACKAGE}/dist/.build-stamp`;

/** Why the web bundle under `root` needs building (missing, or older than a source), or undefined when it is up to date. */
export function webBuildProblem(root: string): string | undefined {
  let built: number;
  try {
    built = statSync(join(root, STAMP)).mtimeMs;
  } catch {
    return `${WEB_PACKAGE} is not built (no ${STAMP})`;
  }
  for (const input of WEB_INPUTS) {
    const newest = newestFile(join(root, input));
    if (newest && newest.mtimeMs > built) return `${WEB_PACKAGE}/dist is older than ${relative(root, newest.file)}`;
  }
  return undefined;
}

/** Throws a BuildError unless the web bundle is built and up to date (what the browser tests load). */
export function checkWebBuild(root: string): void {
  const problem = webBuildProblem(root);
  if (problem) throw new BuildError(`${problem}: run \`pnpm build\``);
}

/**
 * Build the web bundle with Vite (its vite.config.ts), unless it is up to date (about 50 ms to
 * find out) or `force`. Resolves with what it did.
 */
export async function buildWeb(root: string, options: { force?: boolean } = {}): Promise<'built' | 'up to date'> {
  if (!options.force && webBuildProblem(root) === undefined) return 'up to date';
  const started = new Date();
  const { build } = await import('vite');
  await build({ configFile: join(root, WEB_PACKAGE, 'vite.config.ts'), logLevel: 'warn' });
  const stamp = join(root, STAMP);
  writeFileSync(stamp, '');
  utimesSync(stamp, started, started);
  return 'built';
}
