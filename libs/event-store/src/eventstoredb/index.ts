export * from './eventstoredb-event-store';
export * from './checkpoint-store';
