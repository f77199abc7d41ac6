import type { RecordedEvent } from '@journey/domain';
import type { SearchSpec } from './search';

/**
 * A projection is pure: from a batch of events (in global order) and the documents it reads, it returns document
 * operations. Stores (SQLite tables, MongoDB collections) apply them; the same projection code serves every store.
 *
 * Idempotence without transactions: every document carries `pos`, the global position of the last event applied to
 * it. A projection skips events at or below a document's `pos`, and a store only replaces a document whose stored
 * `pos` is lower than the operation's (in MongoDB: `replaceOne({_id, _pos: {$lt: pos}}, ..., {upsert: true})`). So a
 * batch replayed after a crash, fully or partly applied before, converges to the same documents.
 */
export interface Projection {
  /** Also the checkpoint name. */
  readonly name: string;
  readonly collections: readonly CollectionSpec[];
  /** The documents a batch needs to read before `apply`. */
  reads(events: readonly RecordedEvent[]): DocRef[];
  apply(events: readonly RecordedEvent[], docs: DocLookup): PutDoc[];
}

export interface CollectionSpec {
  name: string;
  /** Secondary indexes, each a list of top-level document fields. */
  indexes: string[][];
  /** A search index kept beside the documents (`ReadModelStore.search`; see `search.ts`). */
  search?: SearchSpec;
}

/** A collection with a search index. */
export type SearchableCollection = CollectionSpec & { search: SearchSpec };

export interface DocRef {
  collection: string;
  id: string;
}

export interface StoredDoc<T = Record<string, unknown>> {
  id: string;
  /** Global position of the last event applied to this document. */
  pos: bigint;
  doc: T;
}

/** Replace (or create) a document unless the stored one is already at `pos` or beyond. */
export interface PutDoc<T = Record<string, unknown>> extends StoredDoc<T> {
  collection: string;
}

export type DocLookup = (ref: DocRef) => StoredDoc | undefined;

export const docKey = (ref: DocRef): string => `${ref.collection}\u0000${ref.id}`;

/**
 * The working set of a batch: starts from the stored documents, applies events that are newer than each document's
 * `pos`, and yields one put per changed document.
 */
export class DocBatch {
  private readonly changed = new Map<string, PutDoc>();

  constructor(private readonly lookup: DocLookup) {}

  /** The document as the batch sees it so far: changed in this batch, else as stored (undefined if not read). */
  get<T>(collection: string, id: string): StoredDoc<T> | undefined {
    return (this.changed.get(docKey({ collection, id })) ?? this.lookup({ collection, id })) as StoredDoc<T> | undefined;
  }

  /** Applies `change` to the document unless it already includes the event at `position`. */
  update<T>(collection: string, id: string, position: bigint, initial: () => T, change: (doc: T) => T): void {
    const key = docKey({ collection, id });
    const current = this.get<T>(collection, id);
    if (current && current.pos >= position) return;
    this.changed.set(key, { collection, id, pos: position, doc: change(current ? current.doc : initial()) as Record<string, unknown> });
  }

  puts(): PutDoc[] {
    return [...this.changed.values()];
  }
}
