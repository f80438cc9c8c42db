export * from './tables.ts';
export * from './ddl.ts';
export * from './converge.ts';
export * from './retention.ts';
