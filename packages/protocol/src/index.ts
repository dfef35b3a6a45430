export * from './errors.ts';
export * from './events.ts';
export * from './routes.ts';
export * from './schemas.ts';
