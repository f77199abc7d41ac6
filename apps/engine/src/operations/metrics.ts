import { Injectable } from '@nestjs/common';
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The engine's Prometheus metrics, on a registry of its own (so tests can start several apps in one process). A worker
 * thread keeps its own, which the main thread aggregates into /metrics; process metrics come from the main thread only.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly ingestedEvents = new Counter({
    name: 'journey_ingested_events_total',
    help: 'Events accepted by ingestion (after dedupe)',
    labelNames: ['workspace', 'source'],
    registers: [this.registry],
  });
  readonly ingestRequests = new Counter({
    name: 'journey_ingest_requests_total',
    help: 'Ingestion requests by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly projectionLag = new Gauge({
    name: 'journey_projection_lag_events',
    help: 'Events in the log not yet applied, per projection',
    labelNames: ['projection'],
    registers: [this.registry],
  });
  readonly projectionPosition = new Gauge({
    name: 'journey_projection_position',
    help: 'Last global position applied, per projection',
    labelNames: ['projection'],
    registers: [this.registry],
  });
  readonly triggerMatches = new Counter({
    name: 'journey_trigger_matches_total',
    help: 'Trigger matches',
    labelNames: ['trigger'],
    registers: [this.registry],
  });
  readonly messages = new Counter({
    name: 'journey_messages_total',
    help: 'Messages by channel and outcome',
    labelNames: ['channel', 'outcome'],
    registers: [this.registry],
  });
  readonly threadHeap = new Gauge({
    name: 'journey_thread_heap_bytes',
    help: 'JavaScript heap of each thread of the process (V8 isolate): total size and used',
    labelNames: ['thread', 'kind'],
    registers: [this.registry],
    collect() {
      const heap = getHeapStatistics();
      const thread = isMainThread ? 'main' : 'worker';
      this.set({ thread, kind: 'total' }, heap.total_heap_size);
      this.set({ thread, kind: 'used' }, heap.used_heap_size);
    },
  });
  readonly deadLetters = new Counter({
    name: 'journey_dead_letters_total',
    help: 'Events quarantined as dead letters, per subscriber',
    labelNames: ['subscriber'],
    registers: [this.registry],
  });
  readonly workerRestarts = new Counter({
    name: 'journey_worker_thread_restarts_total',
    help: 'Restarts of the worker thread after it died',
    registers: [this.registry],
  });

  constructor() {
    if (isMainThread) collectDefaultMetrics({ register: this.registry, prefix: 'journey_' });
  }
}
