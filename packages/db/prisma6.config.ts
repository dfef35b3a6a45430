import { defineConfig } from 'prisma6/config';
import { PrismaPg } from 'prisma6-adapter-pg';

// For test/drift.test.ts only: Prisma 6.19's CLI with its bundled WASM schema engine
// (engine "js"), which diffs schemas offline where Prisma 7's native engine cannot be
// downloaded. That engine connects through the adapter (to DATABASE_URL) even for a
// schema-to-schema diff, but changes nothing there.
export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  // A short idle timeout: the CLI exits only once the pool's connections are closed.
  adapter: async () => new PrismaPg({ connectionString: process.env.DATABASE_URL, idleTimeoutMillis: 100 }),
});
