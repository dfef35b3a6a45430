/**
 * `pnpm build`'s second step (after `tsc -b`): the web app's bundle, rebuilt only when one of its
 * sources changed. `--force` rebuilds it anyway.
 */
import { REPO_ROOT } from './gateway-process.ts';
import { buildWeb, WEB_PACKAGE } from './web-build.ts';

const started = performance.now();
const result = await buildWeb(REPO_ROOT, { force: process.argv.includes('--force') });
process.stdout.write(`web: ${WEB_PACKAGE}/dist ${result} (${Math.round(performance.now() - started)} ms)\n`);
