import { Injectable } from '@nestjs/common';
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Buckets of the conversation durations, in seconds: 1 minute to 30 days. */
const CONVERSATION_SECONDS = [60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 86_400, 3 * 86_400, 7 * 86_400, 30 * 86_400];

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

  /*
   * Conversations (fed by analytics/conversation-metrics.ts, in the process with the projector role). Labelled by team,
   * priority and channel, never by member or customer: the number of series must stay bounded (a label per person would
   * multiply every histogram's buckets by the headcount); per person figures are in GET /v1/analytics/conversations.
   */
  readonly conversationFirstResponse = new Histogram({
    name: 'conversation_first_response_seconds',
    help: 'Wall-clock seconds from the start of a conversation to its first agent reply (a person or automation)',
    labelNames: ['team', 'priority', 'channel'],
    buckets: CONVERSATION_SECONDS,
    registers: [this.registry],
  });
  readonly conversationResolution = new Histogram({
    name: 'conversation_resolution_seconds',
    help: 'Wall-clock seconds from the start of a conversation to its resolution (each resolution, after a reopen too)',
    labelNames: ['team', 'priority', 'channel'],
    buckets: CONVERSATION_SECONDS,
    registers: [this.registry],
  });
  readonly conversationsStarted = new Counter({
    name: 'conversations_started_total',
    help: 'Conversations started',
    labelNames: ['channel'],
    registers: [this.registry],
  });
  readonly conversationsResolved = new Counter({
    name: 'conversations_resolved_total',
    help: 'Conversations resolved; automated="true": with no person involved',
    labelNames: ['automated'],
    registers: [this.registry],
  });
  readonly slaBreaches = new Counter({
    name: 'sla_breaches_total',
    help: 'SLA targets missed (conversations and tasks)',
    labelNames: ['target'],
    registers: [this.registry],
  });
  readonly csatRatings = new Counter({
    name: 'csat_ratings_total',
    help: 'Satisfaction ratings, by score (1-5)',
    labelNames: ['score'],
    registers: [this.registry],
  });

  constructor() {
    if (isMainThread) collectDefaultMetrics({ register: this.registry, prefix: 'journey_' });
  }
}
