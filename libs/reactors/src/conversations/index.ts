export * from './organisations';
export * from './assignment-reactor';
export * from './sla-reactor';
export * from './email-replies';
