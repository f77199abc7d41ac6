import type { RecordedEvent } from '@journey/domain';
import type { Projection, SearchableCollection, StoredDoc } from './projection';
import type { SearchPage, SearchQuery } from './search';

export const READ_MODEL_STORE = Symbol('READ_MODEL_STORE');

/** `live`: what readers see. `rebuild`: fresh collections a rebuild fills from zero before swapping them in. */
export type ReadModelTarget = 'live' | 'rebuild';

export type FieldValue = string | number;

export interface FindOptions {
  /** Top-level fields to sort by, ascending. */
  orderBy?: string[];
  limit?: number;
  /**
   * Keyset paging: only documents whose `field` (a string or number, compared as stored) is greater than `value`. With
   * `orderBy: [field]` on a field unique per document, the page after the one that ended at `value`.
   */
  after?: { field: string; value: FieldValue };
}

export interface ApplyOptions {
  /**
   * Apply the events even at or below the checkpoint, and leave the checkpoint where it is: the retry of a dead letter
   * (an event the runner quarantined and went past). Documents a later event already changed keep their newer state
   * (their `pos` guard); a rebuild replays the event in its place.
   */
  replay?: boolean;
}

export interface SwapReport {
  /** Documents per collection in the rebuilt model. */
  documents: Record<string, number>;
  /** Documents per collection that differed between the rebuilt and the live model (0 when rebuild == live). */
  differences: Record<string, number>;
}

/**
 * Document-oriented read-model store. Adapters: `sqlite/` (tables in the engine's SQLite file) and MongoDB
 * (collections; `applyBatch` as idempotent `replaceOne` upserts guarded by the document's `_pos`, then the checkpoint,
 * no transactions — see `projection.ts`).
 */
export interface ReadModelStore {
  readonly engine: 'sqlite' | 'mongodb';
  /** Creates the projection's live collections and indexes if missing. */
  prepare(projection: Projection): Promise<void>;
  /** Last global position applied to the target (0n when nothing was). */
  checkpoint(projection: string, target?: ReadModelTarget): Promise<bigint>;
  /**
   * Applies a batch (in global order) and moves the checkpoint to its last position. Events at or below the checkpoint
   * are skipped, so a replayed batch is harmless. SQLite: documents and checkpoint in one transaction. Returns the
   * new checkpoint.
   */
  applyBatch(projection: Projection, events: readonly RecordedEvent[], target?: ReadModelTarget): Promise<bigint>;
  /**
   * `applyBatch` for several projections over the same events (one live runner serves them all). SQLite: every
   * projection's documents and checkpoint in one transaction. Returns each projection's new checkpoint, in order.
   */
  applyBatches(
    projections: readonly Projection[],
    events: readonly RecordedEvent[],
    target?: ReadModelTarget,
    options?: ApplyOptions,
  ): Promise<bigint[]>;
  /** Drops any previous rebuild and creates empty rebuild collections (readers keep seeing the live ones). */
  startRebuild(projection: Projection): Promise<void>;
  /**
   * When both the live and the rebuilt model are exactly at `position`: compares them, then makes the rebuilt one live
   * (atomically for readers). Returns undefined, changing nothing, when either is elsewhere (a live runner moved on).
   */
  finishRebuild(projection: Projection, position: bigint): Promise<SwapReport | undefined>;
  get<T = Record<string, unknown>>(collection: string, id: string): Promise<StoredDoc<T> | undefined>;
  /** Documents whose top-level fields equal `where`. */
  find<T = Record<string, unknown>>(
    collection: string,
    where: Record<string, FieldValue>,
    options?: FindOptions,
  ): Promise<Array<StoredDoc<T>>>;
  /**
   * A page of the collection's documents matching `query`, in its order, from its search index (filters and orders
   * served by indexes, see `search.ts`; `limit` + 1 read to tell whether more follow). Always inside one partition.
   */
  search<T = Record<string, unknown>>(collection: SearchableCollection, query: SearchQuery): Promise<SearchPage<T>>;
  /** How many documents matching `where` have each value of `field`. */
  countBy(collection: string, field: string, where: Record<string, FieldValue>): Promise<Array<{ value: unknown; count: number }>>;
}
