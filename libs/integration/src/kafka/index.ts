export * from './kafka-client';
export * from './kafka-publisher';
export * from './ingestion-consumer';
