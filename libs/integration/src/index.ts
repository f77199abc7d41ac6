export * from './segment';
export * from './outbox';
export * from './bus';
export * from './kafka';
export * from './schemas';
