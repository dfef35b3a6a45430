export * from './options.ts';
export * from './proc.ts';
export * from './register.ts';
export * from './report.ts';
export { runLoad } from './run.ts';
export type { Protocol, Transport } from './client.ts';
export * from './flags.ts';
