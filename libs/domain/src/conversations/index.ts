export * from './types';
export * from './conversation';
export * from './tasks';
export * from './organisation';
export * from './settings';
