export * from './options.ts';
export * from './report.ts';
export * from './scenario.ts';
export * from './verify.ts';
