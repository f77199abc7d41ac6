export * from './schema';
export * from './definition';
export * from './membership';
