export * from './events';
export * from './ids';
export * from './upcasters';
export * from './delivery';
export * from './customer';
export * from './timeline';
export * from './stage';
export * from './triggers';
