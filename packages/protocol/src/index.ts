export * from './errors.ts';
export * from './event-names.ts';
export * from './events.ts';
export * from './payloads.ts';
export * from './routes.ts';
export * from './schemas.ts';
