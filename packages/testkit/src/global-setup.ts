import type { TestProject } from 'vitest/node';
import { provideServices } from './services.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    redisUrl: string;
    /** The back-end startTestBackend gives gateway tests; set per project in vitest.config.ts. */
    backend: import('./backend.ts').BackendKind;
  }
}

/** Once per run: find (or start) PostgreSQL and Redis and hand their URLs to every test file. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services = await provideServices();
  project.provide('postgresUrl', services.postgresUrl);
  project.provide('redisUrl', services.redisUrl);
  return () => services.stop();
}
