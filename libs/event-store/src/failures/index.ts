export * from './classify';
export * from './failure-policy';
export * from './dead-letter-log';
