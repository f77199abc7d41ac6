export * from './classify';
export * from './failure-policy';
