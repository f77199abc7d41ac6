import { replayStep, replayStream, type JourneyEvent, type RecordedEvent, type ReplayDecider, type Replayed } from '@journey/domain';
import type { AppendRequest, EventFilter, EventStore } from '@journey/event-store';
import type { Reactor, ReactorContext } from './reactor';

/** How many customers a reactor keeps in memory by default. */
export const DEFAULT_CUSTOMER_CACHE_SIZE = 10_000;

/** A reactor's state of one customer, as of its stream's `revision` (see `Replayed`). */
export interface CustomerEntry<S> extends Replayed<S> {
  /** The customer's workspace, for reactors that drop a workspace's entries (see `refresh`). */
  workspaceId: string;
}

/**
 * The customers' states of a reactor that reads the log in order and decides with a `ReplayDecider` (its replay rule:
 * `@journey/domain` replay.ts), and the appends of the batch at hand. States are kept in a bounded LRU and used only
 * when exactly up to the predecessor of the event at hand (same stream, previous revision). A miss, a gap (events the
 * reactor skipped, or handled by another process) or a redelivery (positions going back: the runner replays from its
 * checkpoint after a failure) rebuilds the state from the stream; a redelivery also drops every state, since they may
 * hold effects that were never stored.
 *
 * The states a batch touches stay in memory until `end()`, whatever the capacity: their effects are not stored yet
 * (the runner appends after `react` returns), so a rebuild from the stream would miss them.
 */
export class CustomerDecisions<S> {
  private readonly lru = new Map<string, CustomerEntry<S>>();
  private readonly batch = new Map<string, CustomerEntry<S>>();
  private appends: AppendRequest[] = [];
  private last = -1n;

  constructor(
    private readonly decider: ReplayDecider<S>,
    private readonly capacity = DEFAULT_CUSTOMER_CACHE_SIZE,
  ) {}

  begin(events: readonly RecordedEvent[]): void {
    if (events.length > 0 && events[0].position <= this.last) this.lru.clear();
    this.batch.clear();
    this.appends = [];
  }

  /**
   * Takes the customer's state before `event` (kept, or rebuilt from its stream), advances it past the event and adds
   * the effects to the batch's appends (a state not kept is not rebuilt for an event that is no input).
   */
  async decide(event: RecordedEvent, ctx: ReactorContext): Promise<void> {
    let entry = this.batch.get(event.streamId) ?? this.lru.get(event.streamId);
    this.lru.delete(event.streamId);
    if (!entry || entry.revision !== event.revision - 1n) {
      this.batch.delete(event.streamId);
      if (!this.decider.isInput(event)) return; // no need to read the stream for it
      entry = await this.rebuild(ctx.store, event.streamId, event.revision - 1n, event.metadata.workspaceId);
    }
    const effects = replayStep(this.decider, entry, event, ctx.now());
    this.batch.set(event.streamId, entry);
    if (effects.length > 0) this.appends.push({ streamId: event.streamId, events: effects, expectedRevision: 'any' });
  }

  /**
   * Rebuilds from their streams the states `stale` picks: those kept are dropped (the customers' next events rebuild
   * them), those this batch touched are rebuilt at once, with the effects of the batch not stored yet.
   */
  async refresh(stale: (entry: CustomerEntry<S>) => boolean, store: EventStore): Promise<void> {
    for (const [streamId, entry] of this.lru) if (stale(entry)) this.lru.delete(streamId);
    for (const [streamId, entry] of [...this.batch].filter(([, e]) => stale(e))) {
      const pending = this.appends.filter((a) => a.streamId === streamId).flatMap((a) => a.events);
      this.batch.set(streamId, await this.rebuild(store, streamId, entry.revision, entry.workspaceId, pending));
    }
  }

  /** The state as of `revision` of the stream, with `pending`: effects decided in this batch on events up to it. */
  private async rebuild(store: EventStore, streamId: string, revision: bigint, workspaceId: string, pending?: JourneyEvent[]) {
    return { ...replayStream(this.decider, await store.readStream(streamId), revision, pending), workspaceId };
  }

  /** Every state kept (for measurements). */
  *entries(): IterableIterator<CustomerEntry<S>> {
    yield* this.lru.values();
    yield* this.batch.values();
  }

  /** Ends the batch: keeps its states (the least recently used beyond the capacity are dropped) and returns its appends. */
  end(events: readonly RecordedEvent[]): AppendRequest[] {
    if (events.length > 0) this.last = events[events.length - 1].position;
    for (const [streamId, entry] of this.batch) this.lru.set(streamId, entry);
    this.batch.clear();
    for (const streamId of this.lru.keys()) {
      if (this.lru.size <= this.capacity) break;
      this.lru.delete(streamId);
    }
    return this.appends;
  }
}

/**
 * A reactor that is a decider and a filter: it decides on every event of an owned customer it is given, with the
 * customer's state as the replay rule rebuilds it (see `CustomerDecisions`), and appends the effects to the stream.
 */
export class DeciderReactor<S> implements Reactor {
  private readonly decisions: CustomerDecisions<S>;

  constructor(
    readonly name: string,
    readonly filter: EventFilter,
    decider: ReplayDecider<S>,
    cacheSize?: number,
  ) {
    this.decisions = new CustomerDecisions(decider, cacheSize);
  }

  async react(events: RecordedEvent[], ctx: ReactorContext): Promise<AppendRequest[]> {
    this.decisions.begin(events);
    for (const event of events) {
      if (ctx.owns(event.metadata.workspaceId, event.metadata.customerId)) await this.decisions.decide(event, ctx);
    }
    return this.decisions.end(events);
  }
}
