export * from './schema';
export * from './time';
export * from './validate';
export * from './conditions';
export * from './definition';
export * from './program';
export * from './run';
export * from './customer';
