import type { JourneyEvent, RecordedEvent } from '@journey/domain';

/**
 * The event store port. Adapters: `sqlite/` (embedded default) and `eventstoredb/` (scale-out).
 * Every adapter passes `contract/event-store.contract.ts`.
 */
export const EVENT_STORE = Symbol('EVENT_STORE');

/** `no_stream`: the stream must not exist; `stream_exists`: it must; a bigint: its last revision must be exactly that. */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

export interface AppendRequest {
  streamId: string;
  events: JourneyEvent[];
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  streamId: string;
  /** The stream's last revision after the append (-1n when it is still empty). */
  nextExpectedRevision: bigint;
  /** Global position of the last event written by this request (or of the stream's last event when all were duplicates). */
  position: bigint;
  /** How many events were new (duplicates by id are skipped: idempotent appends). */
  written: number;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive. Defaults to the start (forwards) or the end (backwards). */
  fromRevision?: bigint;
  maxCount?: number;
}

export interface EventFilter {
  /** Only events whose type is one of these. */
  eventTypes?: string[];
  /** Only events whose stream id starts with one of these prefixes. */
  streamPrefixes?: string[];
}

export interface ReadAllOptions {
  /** Exclusive: read events strictly after this position. Omit to start at the beginning. */
  after?: bigint;
  maxCount?: number;
  filter?: EventFilter;
}

export interface SubscriptionHandle {
  /** Resolves when the subscription has stopped (after `stop()` or a fatal error). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

export interface SubscribeOptions extends Omit<ReadAllOptions, 'maxCount'> {
  /** Batch size for catch-up reads; handlers receive events in batches of at most this many. */
  batchSize?: number;
  /**
   * The handler writes only back into this log (its events, then its checkpoint after them): it may be handed events
   * before they are durable, since a loss that drops them drops what it wrote too. Subscribers that write elsewhere
   * (read models in another store, Kafka, sends) are handed only durable events.
   */
  writesOnlyToLog?: boolean;
}

/**
 * Handler for a subscription: called with events in global order, one batch at a time; the next batch is not delivered
 * before the returned promise resolves. Throwing stops the subscription (its `done` rejects).
 */
export type BatchHandler = (events: RecordedEvent[]) => Promise<void> | void;

export class WrongExpectedRevisionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: bigint,
  ) {
    super(`wrong expected revision on stream ${streamId}: expected ${String(expected)}, actual ${actual === -1n ? 'no stream' : actual}`);
    this.name = 'WrongExpectedRevisionError';
  }
}

/**
 * Throws {@link WrongExpectedRevisionError} unless `expected` holds for a stream whose last revision is `current`
 * (-1n: no stream). Every adapter checks expectations with this one rule.
 */
export function checkExpectedRevision(streamId: string, expected: ExpectedRevision, current: bigint): void {
  const holds =
    expected === 'any' ||
    (expected === 'no_stream' && current === -1n) ||
    (expected === 'stream_exists' && current >= 0n) ||
    expected === current;
  if (!holds) throw new WrongExpectedRevisionError(streamId, expected, current);
}

/**
 * The {@link EventFilter} as a predicate over events: types match exactly, stream prefixes as prefixes, both at once;
 * an empty list does not filter. Built once per read or subscription.
 */
export function eventFilterPredicate(filter: EventFilter | undefined): (event: { type: string; streamId: string }) => boolean {
  const types = filter?.eventTypes?.length ? new Set(filter.eventTypes) : undefined;
  const prefixes = filter?.streamPrefixes?.length ? filter.streamPrefixes : undefined;
  return (e) => (!types || types.has(e.type)) && (!prefixes || prefixes.some((p) => e.streamId.startsWith(p)));
}

export interface EventStore {
  /** Append to one stream, atomically. Events whose id is already stored are skipped (idempotent). */
  appendToStream(streamId: string, events: JourneyEvent[], options?: { expectedRevision?: ExpectedRevision }): Promise<AppendResult>;
  /**
   * Append to several streams. The SQLite adapter does it in one transaction (all or nothing); EventStoreDB appends
   * stream by stream (each atomic). Resolves only when every event is durable, unless they are `rederivable`: events
   * a `writesOnlyToLog` subscriber derived from the log, its checkpoint stored after them in it. A loss can only drop
   * a suffix of the log, so never these and that later checkpoint: the subscriber would derive them again (same ids).
   * Such an append may resolve once the events are readable, their durability following. Never for what the outside
   * world has been told (an answer, a send).
   */
  appendMany(requests: AppendRequest[], options?: { rederivable?: boolean }): Promise<AppendResult[]>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /** The position of the last event in the log (0n when empty). */
  headPosition(): Promise<bigint>;
  /** Catch up from `after`, then stay live. */
  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): SubscriptionHandle;
  /** Readiness check for /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
