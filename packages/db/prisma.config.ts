import { defineConfig } from 'prisma/config';

// Used by `prisma generate` (scripts/generate.mjs) and, where Prisma's schema engine can be
// downloaded, by `prisma migrate deploy` against DATABASE_URL.
export default defineConfig({
  schema: '../../prisma/schema.prisma',
  migrations: { path: '../../prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/parley' },
});
