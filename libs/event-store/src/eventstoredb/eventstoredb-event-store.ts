import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type RecordedEvent as EsdbRecordedEvent,
  type ResolvedEvent,
  type StreamingRead,
} from '@eventstore/db-client';
import { ENGINE_UPCASTERS, type JourneyEvent, type RecordedEvent, type Upcasters } from '@journey/domain';
import {
  WrongExpectedRevisionError,
  checkExpectedRevision,
  eventFilterPredicate,
  type AppendRequest,
  type AppendResult,
  type BatchHandler,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeOptions,
  type SubscriptionHandle,
} from '../event-store.port';
import {
  exactExpectation,
  fromRecordedEvent,
  isAfter,
  isSystemEvent,
  knownPosition,
  readPositionAfter,
  serverFilter,
  toEventData,
  toPortPosition,
  toPortRevision,
} from './mapping';
import { resumableSubscription } from './resumable-subscription';
import { EventStoreDbCheckpointStore } from './checkpoint-store';
import type { CheckpointStore } from '../checkpoint.port';

export interface EventStoreDbEventStoreOptions {
  /**
   * Idempotency window: how many of a stream's latest events an append checks for the ids it is about to write.
   * A duplicate older than that is not detected by the adapter (see README.md). Default 200.
   */
  dedupeWindow?: number;
  /** Attempts for an append that keeps racing other writers of the same stream before it fails. Default 5. */
  maxAppendAttempts?: number;
  /** Page size of `readAll` scans. Default 1000. */
  readPageSize?: number;
  /** Called when a subscription drops and is about to resubscribe. Default: a console warning. */
  onSubscriptionDrop?: (error: unknown, attempt: number) => void;
  /** What brings old events to their current schema on read. Default: the engine's (ENGINE_UPCASTERS). */
  upcasters?: Upcasters;
}

/**
 * The EventStore port on EventStoreDB / KurrentDB (scale-out). Streams are ESDB streams, the global log is $all (system
 * events left out), envelopes are JSON events with the envelope metadata as ESDB metadata. See README.md for the
 * position mapping, the idempotency window and the other limits.
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly dedupeWindow: number;
  private readonly maxAppendAttempts: number;
  private readonly readPageSize: number;
  private readonly onSubscriptionDrop: (error: unknown, attempt: number) => void;
  private readonly upcasters: Upcasters;
  private readonly subscriptions = new Set<SubscriptionHandle>();
  private closed = false;

  /** `esdb://host:2113?tls=false`, `esdb+discover://...`: any EventStoreDB connection string. */
  static connect(connectionString: string, options?: EventStoreDbEventStoreOptions): EventStoreDbEventStore {
    return new EventStoreDbEventStore(EventStoreDBClient.connectionString(connectionString), options);
  }

  /** The store owns the client: `close()` disposes it. */
  constructor(
    private readonly client: EventStoreDBClient,
    options: EventStoreDbEventStoreOptions = {},
  ) {
    this.dedupeWindow = options.dedupeWindow ?? 200;
    this.maxAppendAttempts = options.maxAppendAttempts ?? 5;
    this.readPageSize = Math.max(2, options.readPageSize ?? 1000);
    this.upcasters = options.upcasters ?? ENGINE_UPCASTERS;
    this.onSubscriptionDrop =
      options.onSubscriptionDrop ??
      ((error, attempt) =>
        console.warn(`journey: EventStoreDB subscription dropped (attempt ${attempt}), resubscribing: ${String(error)}`));
  }

  /**
   * Reads the stream's latest events, drops the ones whose id is among them, checks the caller's expectation against
   * the revision just read and appends with that exact revision as ESDB's expectation. If another writer got in
   * between, ESDB refuses and the whole step runs again (it may find that the other writer stored these very ids).
   */
  async appendToStream(
    streamId: string,
    events: JourneyEvent[],
    options: { expectedRevision?: ExpectedRevision } = {},
  ): Promise<AppendResult> {
    this.assertOpen();
    if (!streamId) throw new Error('streamId is required');
    const expected = options.expectedRevision ?? 'any';
    for (let attempt = 1; ; attempt++) {
      const recent = await this.readStreamRaw(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: this.dedupeWindow });
      const current = recent.length > 0 ? recent[0].revision : -1n;
      const seen = new Set(recent.map((e) => e.id));
      const fresh = events.filter((e) => {
        if (!e.id || seen.has(e.id)) return false;
        seen.add(e.id);
        return true;
      });
      if (fresh.length === 0)
        return { streamId, nextExpectedRevision: current, position: knownPosition(recent[0]?.position) ?? 0n, written: 0 };
      checkExpectedRevision(streamId, expected, current);
      try {
        const result = await this.client.appendToStream(streamId, fresh.map(toEventData), { expectedRevision: exactExpectation(current) });
        const position = result.position ? toPortPosition(result.position) : await this.lastPositionOf(streamId);
        return { streamId, nextExpectedRevision: result.nextExpectedRevision, position, written: fresh.length };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        if (attempt >= this.maxAppendAttempts)
          throw new WrongExpectedRevisionError(streamId, expected, toPortRevision(error.actualVersion));
      }
    }
  }

  /** Stream by stream, in order, each append atomic on its own: a failure leaves the earlier streams written. */
  /** Always durable when it resolves (EventStoreDB acknowledges after its own commit), `rederivable` or not. */
  async appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (const r of requests) results.push(await this.appendToStream(r.streamId, r.events, { expectedRevision: r.expectedRevision }));
    return results;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const backwards = options.direction === 'backwards';
    const raw = await this.readStreamRaw(streamId, {
      direction: backwards ? BACKWARDS : FORWARDS,
      fromRevision: options.fromRevision ?? (backwards ? END : START),
      maxCount: options.maxCount,
    });
    return raw.map((r) => fromRecordedEvent(r, this.upcasters)).filter((e): e is RecordedEvent => e !== undefined);
  }

  /**
   * Pages through $all forwards from `after` and keeps the engine's events that pass the filter. The Node client has
   * no server-side filter for reads (subscriptions have one), so a filtered read scans everything after `after`.
   */
  async readAll({ after, maxCount = 1000, filter }: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    this.assertOpen();
    const matches = eventFilterPredicate(filter);
    const out: RecordedEvent[] = [];
    let from = after;
    while (out.length < maxCount) {
      const pageFrom = from;
      const page = await collect(
        this.client.readAll({ fromPosition: readPositionAfter(pageFrom), direction: FORWARDS, maxCount: this.readPageSize }),
      );
      for (const resolved of page) {
        if (!resolved.event) continue;
        const position = toPortPosition(resolved.event.position);
        if (!isAfter(position, pageFrom)) continue;
        from = position;
        const event = fromRecordedEvent(resolved.event, this.upcasters);
        if (event && matches(event)) out.push(event);
        if (out.length >= maxCount) break;
      }
      if (page.length < this.readPageSize || from === pageFrom) break;
    }
    return out;
  }

  /**
   * The position of the engine's last event (system events such as $stats are written all the time and no subscriber
   * sees them, so counting them would show a lag that never closes). If the last page of the log holds none, the
   * position of the last event of any kind: still a valid `after` for reads.
   */
  async headPosition(): Promise<bigint> {
    this.assertOpen();
    const tail = await collect(this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 100 }));
    const events = tail.flatMap((r) => (r.event ? [r.event] : []));
    const ours = events.find((e) => !isSystemEvent(e.streamId, e.type));
    const last = ours ?? events[0];
    return last ? toPortPosition(last.position) : 0n;
  }

  /**
   * A catch-up subscription on $all with a server-side filter, batched and resumed after drops
   * ({@link resumableSubscription}).
   */
  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): SubscriptionHandle {
    this.assertOpen();
    const filter = serverFilter(options.filter);
    const matches = eventFilterPredicate(options.filter);
    const handle = resumableSubscription<AllStreamResolvedEvent>({
      after: options.after,
      batchSize: options.batchSize ?? 500,
      open: (after) => this.client.subscribeToAll({ fromPosition: readPositionAfter(after), filter }),
      toEvent: (resolved) => {
        const event = resolved.event && fromRecordedEvent(resolved.event, this.upcasters);
        return event && matches(event) ? event : undefined;
      },
      handler,
      onDrop: this.onSubscriptionDrop,
    });
    this.subscriptions.add(handle);
    const forget = () => this.subscriptions.delete(handle);
    handle.done.then(forget, forget);
    return handle;
  }

  /** One event read from the end of $all, with a deadline: cheap, and proves the node answers reads. */
  async ping(): Promise<void> {
    this.assertOpen();
    await collect(this.client.readAll({ fromPosition: END, direction: BACKWARDS, maxCount: 1, deadline: 5000 }));
  }

  /** Checkpoints kept in the same EventStoreDB, over this store's connection (see checkpoint-store.ts). */
  checkpointStore(): CheckpointStore {
    return new EventStoreDbCheckpointStore(this.client);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('event store is closed');
  }

  private async readStreamRaw(
    streamId: string,
    options: { direction: typeof FORWARDS | typeof BACKWARDS; fromRevision: typeof START | typeof END | bigint; maxCount?: number },
  ): Promise<EsdbRecordedEvent[]> {
    try {
      const resolved: ResolvedEvent[] = await collect(this.client.readStream(streamId, options));
      return resolved.flatMap((r) => (r.event ? [r.event] : []));
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
  }

  private async lastPositionOf(streamId: string): Promise<bigint> {
    const [last] = await this.readStreamRaw(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: 1 });
    return knownPosition(last?.position) ?? 0n;
  }
}

async function collect<T>(read: StreamingRead<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of read) out.push(item);
  return out;
}
