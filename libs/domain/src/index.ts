export * from './events';
export * from './ids';
export * from './upcasters';
