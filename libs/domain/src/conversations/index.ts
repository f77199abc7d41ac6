export * from './types';
export * from './conversation';
export * from './tasks';
export * from './organisation';
export * from './settings';
export * from './business-hours';
export * from './sla';
