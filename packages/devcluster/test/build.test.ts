import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuildError, checkBuild, checkWebBuild, COMPILED_PACKAGES, REPO_ROOT, webBuildProblem } from '@parley/devcluster';

// checkBuild guards every path that runs the compiled gateway from a checkout (startGatewayProcess:
// the cluster tests, `pnpm cluster`, chaos, bench): a dist/ missing or older than its sources fails
// there at once, naming the newer file, instead of running code that is not what is checked out.
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'parley-build-'));
  await mkdir(join(root, 'pkg/src/sub'), { recursive: true });
  await writeFile(join(root, 'pkg/src/index.ts'), 'export {};\n');
  await writeFile(join(root, 'pkg/src/sub/deep.ts'), 'export {};\n');
});
afterAll(() => rm(root, { recursive: true, force: true }));

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds));

describe('checkBuild', () => {
  it('fails when a package was never built (a fresh clone before `pnpm build`)', () => {
    expect(() => checkBuild(root, ['pkg'])).toThrow(BuildError);
    expect(() => checkBuild(root, ['pkg'])).toThrow(/pkg is not built .*run `pnpm build`/);
  });

  it('passes once dist/ is at least as new as every source file, and fails when one is edited after the build', async () => {
    await mkdir(join(root, 'pkg/dist'), { recursive: true });
    await writeFile(join(root, 'pkg/dist/.tsbuildinfo'), '{}');
    for (const file of ['src/index.ts', 'src/sub/deep.ts']) await utimes(join(root, 'pkg', file), at(0), at(0));
    await utimes(join(root, 'pkg/dist/.tsbuildinfo'), at(10), at(10));
    expect(() => checkBuild(root, ['pkg'])).not.toThrow();

    // An edit in a nested folder, after the build.
    await utimes(join(root, 'pkg/src/sub/deep.ts'), at(20), at(20));
    expect(() => checkBuild(root, ['pkg'])).toThrow(/pkg\/dist is older than \/?pkg\/src\/sub\/deep\.ts: run `pnpm build`/);
  });

  it('finds the checkout built: `pnpm test` builds before vitest', () => {
    expect(COMPILED_PACKAGES).toContain('services/gateway');
    expect(() => checkBuild(REPO_ROOT)).not.toThrow();
  });
});

// `pnpm build` rebuilds the web bundle only when one of its inputs is newer than the last build's
// stamp (webBuildProblem), and the browser tests refuse a missing or stale bundle (checkWebBuild).
describe('webBuildProblem', () => {
  let web: string;
  beforeAll(async () => {
    web = await mkdtemp(join(tmpdir(), 'parley-web-build-'));
    for (const dir of ['packages/web/src/chat', 'packages/web/console', 'packages/client/src', 'packages/protocol/src'])
      await mkdir(join(web, dir), { recursive: true });
    for (const file of [
      'packages/web/index.html',
      'packages/web/console/index.html',
      'packages/web/src/chat/app.tsx',
      'packages/client/src/index.ts',
      'pnpm-lock.yaml',
    ])
      await writeFile(join(web, file), '');
  });
  afterAll(() => rm(web, { recursive: true, force: true }));

  it('is missing before the first build, fresh after it, and stale once an input changes, naming it', async () => {
    expect(webBuildProblem(web)).toMatch(/packages\/web is not built/);
    expect(() => checkWebBuild(web)).toThrow(/run `pnpm build`/);
    await mkdir(join(web, 'packages/web/dist'));
    await writeFile(join(web, 'packages/web/dist/.build-stamp'), '');
    for (const file of ['packages/web/index.html', 'packages/web/src/chat/app.tsx', 'packages/client/src/index.ts', 'pnpm-lock.yaml'])
      await utimes(join(web, file), at(0), at(0));
    await utimes(join(web, 'packages/web/console/index.html'), at(0), at(0));
    await utimes(join(web, 'packages/web/dist/.build-stamp'), at(10), at(10));
    expect(webBuildProblem(web)).toBeUndefined();

    // A source of a bundled workspace package, and the lockfile (a new Preact), count too.
    for (const file of ['packages/client/src/index.ts', 'pnpm-lock.yaml']) {
      await utimes(join(web, file), at(20), at(20));
      expect(webBuildProblem(web)).toBe(`packages/web/dist is older than ${file}`);
      await utimes(join(web, file), at(0), at(0));
    }
  });

  it('finds the checkout bundle built: `pnpm test` builds before vitest', () => {
    expect(() => checkWebBuild(REPO_ROOT)).not.toThrow();
  });
});
