export * from './integration-events';
export * from './relay';
