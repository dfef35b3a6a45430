import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'services/*/test/**/*.test.ts'],
    globalSetup: ['./packages/testkit/src/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core CI box.
    // The files mostly wait on sockets and PostgreSQL, so two run side by side (measured with
    // the machine otherwise loaded: 147 s -> 120 s for the whole suite).
    maxWorkers: 2,
  },
});
