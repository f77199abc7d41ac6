export * from './projection';
export * from './store.port';
export * from './search';
export * from './runner';
export * from './projections';
export * from './sqlite/sqlite-read-model-store';
export * from './mongodb/mongo-read-model-store';
