export * from './channel';
export * from './webhook';
export * from './email';
export * from './templates';
export * from './dispatcher';
export * from './inbox';
export * from './trigger-validation';
