export * from './client.ts';
export * from './database.ts';
export * from './node.ts';
export * from './services.ts';
export * from './cli.ts';
export * from './cluster.ts';
export * from './ports.ts';
export * from './tokens.ts';
