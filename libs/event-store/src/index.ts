export * from './event-store.port';
export * from './checkpoint.port';
export * from './sqlite';
export * from './eventstoredb';
export * from './failures';
export * from './processor';
export * from './stream-fold';
