export * from './segment-calls';
export * from './parse-segment';
