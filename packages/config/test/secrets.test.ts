import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '@parley/config';

const ROOT = new URL('../../../', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-secret-'));
  dirs.push(dir);
  return dir;
};

/** Every string the repository or its docs give as a JWT secret (they are public). */
function secretsInRepository(): string[] {
  const files = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(ts|js|mjs|md|ya?ml|json|sh|conf|template)$|Dockerfile$/.test(f) && !f.endsWith('pnpm-lock.yaml'));
  const found = new Set<string>();
  const patterns = [
    /JWT_SECRET\s*[:=]\s*['"]([^'"\s]{8,})['"]/g, // env objects, YAML, shell
    /\$\{JWT_SECRET:-([^}]+)\}/g, // a compose default
    /_SECRET\s*=\s*'([^']{8,})'/g, // constants
    /secret:\s*'([^']{8,})'/g, // signing options in tests
  ];
  for (const file of files) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.add(match[1]!);
  }
  return [...found];
}

describe('JWT secrets', () => {
  it('production refuses a secret shorter than 32 characters', () => {
    // Random, made now: a secret written here would be public.
    const random = randomBytes(24).toString('base64url');
    expect(random).toHaveLength(32);
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: random.slice(1) })).toThrow(/JWT_SECRET: at least 32/);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: random }).jwt.secret).toBe(random);
  });

  it('production refuses every secret written in the repository or its docs', () => {
    const published = secretsInRepository();
    // The compose default, the test kit's and the bench's secrets at least.
    expect(published.length).toBeGreaterThanOrEqual(3);
    for (const secret of published) {
      expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret.padEnd(32, secret) }), secret).toThrow(ConfigError);
    }
  });

  it('development without a secret generates a random one per data directory and keeps it there', () => {
    const dir = dataDir();
    const first = loadConfig({ DATA_DIR: dir }).jwt.secret;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(loadConfig({ DATA_DIR: dir }).jwt.secret).toBe(first);
    expect(readFileSync(join(dir, 'jwt-secret'), 'utf8').trim()).toBe(first);
    expect(statSync(join(dir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    expect(loadConfig({ DATA_DIR: dataDir() }).jwt.secret).not.toBe(first);
  });
});
