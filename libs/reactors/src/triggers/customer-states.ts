import type { JourneyEvent, RecordedEvent } from '@journey/domain';

/** How many customers a reactor keeps in memory by default. */
export const DEFAULT_CUSTOMER_CACHE_SIZE = 10_000;

/**
 * A reactor's state of one customer, as of the stream's `revision`: every event of the stream up to that revision is
 * folded in, and so are the effects the reactor decided on them (which land in the stream later and are not folded
 * again when they come back through the subscription).
 */
export interface CustomerEntry<S> {
  state: S;
  revision: bigint;
  /** Found by a rebuild during a replay: effects already stored for inputs after `revision`, by causing event id. */
  stored?: Map<string, JourneyEvent[]>;
  /** The customer's workspace, for reactors that drop a workspace's entries (see `invalidate`). */
  workspaceId?: string;
}

/**
 * Per-customer states of a reactor that reads the log in order: a bounded LRU of `CustomerEntry`, used only when an
 * entry is exactly up to the predecessor of the event at hand (same stream, previous revision). A miss, a gap (events
 * the reactor skipped, or handled by another process) or a redelivery (positions going back: the runner replays from
 * its checkpoint after a failure) means the caller rebuilds the entry from the stream; a redelivery also drops every
 * entry, since they may hold effects that were never stored.
 *
 * The entries a batch touches stay in memory until `end()`, whatever the capacity: their effects are not stored yet
 * (the runner appends after `react` returns), so a rebuild from the stream would miss them.
 */
export class CustomerStates<S> {
  private readonly lru = new Map<string, CustomerEntry<S>>();
  private readonly batch = new Map<string, CustomerEntry<S>>();
  private last = -1n;

  constructor(private readonly capacity = DEFAULT_CUSTOMER_CACHE_SIZE) {}

  begin(events: readonly RecordedEvent[]): void {
    if (events.length > 0 && events[0].position <= this.last) this.lru.clear();
    this.batch.clear();
  }

  /** The entry up to the event's predecessor, if one is kept (a stale one is dropped). */
  before(event: RecordedEvent): CustomerEntry<S> | undefined {
    const entry = this.batch.get(event.streamId) ?? this.lru.get(event.streamId);
    this.lru.delete(event.streamId);
    if (!entry || entry.revision !== event.revision - 1n) {
      this.batch.delete(event.streamId);
      return undefined;
    }
    this.batch.set(event.streamId, entry);
    return entry;
  }

  /** Records that `entry` now reflects `event` (its stream, up to its revision). */
  advance(event: RecordedEvent, entry: CustomerEntry<S>): void {
    entry.revision = event.revision;
    if (entry.stored?.size === 0) entry.stored = undefined;
    this.batch.set(event.streamId, entry);
  }

  /**
   * Drops the kept entries `stale` picks: their customers' next events rebuild them from the stream. The entries this
   * batch touched cannot be dropped (their effects are not stored yet): they are returned, for the caller to rebuild
   * with the effects it has not returned yet and put back with `replace`.
   */
  invalidate(stale: (entry: CustomerEntry<S>) => boolean): Array<[streamId: string, entry: CustomerEntry<S>]> {
    for (const [streamId, entry] of this.lru) if (stale(entry)) this.lru.delete(streamId);
    return [...this.batch].filter(([, entry]) => stale(entry));
  }

  /** Puts `entry` in place of the entry of the batch it was rebuilt from (same stream, same revision). */
  replace(streamId: string, entry: CustomerEntry<S>): void {
    this.batch.set(streamId, entry);
  }

  /** Every entry kept (for measurements). */
  *entries(): IterableIterator<CustomerEntry<S>> {
    yield* this.lru.values();
    yield* this.batch.values();
  }

  end(events: readonly RecordedEvent[]): void {
    if (events.length > 0) this.last = events[events.length - 1].position;
    for (const [streamId, entry] of this.batch) this.lru.set(streamId, entry);
    this.batch.clear();
    for (const streamId of this.lru.keys()) {
      if (this.lru.size <= this.capacity) break;
      this.lru.delete(streamId);
    }
  }
}

/**
 * Splits a stream for a rebuild of the state as of revision `upTo`: the events up to it, and the reactor's own effects
 * grouped by causing event (`isEffect`, and `pending`: effects decided but not stored yet), so a rebuild folds each
 * effect right after its cause, as the live reactor did. `stored` holds the effects of later events (a replay of
 * events already decided: they are folded, not decided again).
 */
export function splitStream(stream: readonly RecordedEvent[], upTo: bigint, isEffect: (e: RecordedEvent) => boolean, pending: readonly JourneyEvent[] = []) {
  const effects = new Map<string, JourneyEvent[]>();
  const add = (e: JourneyEvent) => {
    const cause = e.metadata.causationId;
    if (cause === undefined) return;
    const group = effects.get(cause);
    if (group) group.push(e);
    else effects.set(cause, [e]);
  };
  for (const e of stream) if (isEffect(e)) add(e);
  for (const e of pending) add(e);
  const before = stream.filter((e) => e.revision <= upTo);
  const stored = new Map<string, JourneyEvent[]>();
  for (const e of stream) if (e.revision > upTo && effects.has(e.id)) stored.set(e.id, effects.get(e.id)!);
  return { before, effects, stored };
}
