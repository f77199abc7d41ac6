/**
 * Read models as MongoDB collections (scale-out). Targets MongoDB 6.0 / 7.0 / 8.0 and FerretDB 1.24 (the test
 * server): no transactions, no replica set, no change streams, no `renameCollection` — deploy/mongodb.md.
 *
 *   read_models            one catalog document per projection (its checkpoint and where its collections live):
 *       { _id: <projection>, position: Long, generation: int, collections: { <collection>: "<collection>__<generation>" },
 *         rebuild?: { generation, position, collections } }          (`rebuild` only while a rebuild runs)
 *   <collection>__<generation>   the documents: { _id: <document id>, _pos: Long, ...document fields }
 *       _s, _t = the search index of a collection that has one (customers; see ../search.ts): _s the search fields
 *       ({stage, lastSeen, health}: '' / 0 when the document has none), _t the terms ([{t, v}]: t "traits:<name>" or
 *       "segments", v the typed value), indexed with the partition and the key (deploy/mongodb.md)
 *       _pos = global position of the last event applied to the document; nested keys that MongoDB cannot store
 *       ('.', a leading '$', '%', NUL) are percent-encoded (%2E, %24, %25, %00).
 *
 * Idempotence without transactions: a batch reads its documents, writes the changed ones first, each guarded by `_pos`
 * (new documents by insertOne; existing ones by a replace that only a document older than the batch accepts — checked
 * in the filter on MongoDB, against the `_pos` just read on FerretDB: WriteGuard; an insert that loses a race to
 * another writer (E11000) becomes a replace guarded in the filter), then moves the checkpoint with a compare-and-set
 * on the catalog document. A crash in between leaves documents ahead of the checkpoint; the replay skips every event
 * at or below a document's `_pos`, so nothing is counted twice.
 *
 * Rebuild writes into the next generation's collections; the swap is one update of the catalog document (collection
 * names and checkpoint together, conditional on both models being at the same position), so readers resolving the
 * catalog see either the old or the new complete model. A live writer still writing to the old generation fails its
 * checkpoint compare-and-set (the generation changed) and retries from the checkpoint into the new collections.
 * Old generations are dropped when the next rebuild starts.
 */
import {
  MongoBulkWriteError,
  MongoClient,
  MongoServerError,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type UpdateFilter,
  type UpdateOptions,
  type UpdateResult,
} from 'mongodb';
import pLimit from 'p-limit';
import { canonicalJson, type RecordedEvent } from '@journey/domain';
import { docKey, type CollectionSpec, type Projection, type PutDoc, type SearchableCollection, type StoredDoc } from '../projection';
import {
  checkSearchQuery,
  prefixEnd,
  searchRecord,
  termOf,
  type SearchPage,
  type SearchQuery,
  type SearchSpec,
  type SearchValue,
  type ValueRange,
} from '../search';
import type { ApplyOptions, FieldValue, FindOptions, ReadModelStore, ReadModelTarget, SwapReport } from '../store.port';

export const CATALOG = 'read_models';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DUPLICATE_KEY = 11000;
const NAMESPACE_EXISTS = 48;
/**
 * Writes per command. FerretDB 1.24 holds one SQLite connection per update until its command ends, out of 100 per
 * database: an update command of 100 operations deadlocks it, and concurrent writers share the pool.
 */
export const WRITES_PER_COMMAND = 25;
/**
 * Write commands a batch keeps in flight, by guard (so by server: WriteGuard). FerretDB's SQLite backend runs writes
 * one at a time and more in flight only slowed the benchmark down; 3 x 25 updates also stay below its 100 connections.
 */
export const COMMANDS_IN_FLIGHT: Record<WriteGuard, number> = { server: 3, client: 1 };
/** Exact `{_id}` lookups a batch keeps in flight where `$in` is not indexed (FerretDB). */
const READS_IN_FLIGHT = 8;
/** Positions come back as bigint (they are stored as int64). */
const READ = { useBigInt64: true } as const;

interface Side {
  generation: number;
  position: bigint;
  collections: Record<string, string>;
}

interface CatalogDoc extends Side {
  _id: string;
  rebuild?: Side;
}

function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw new Error(`invalid ${what} name "${name}"`);
  return name;
}

const collectionName = (collection: string, generation: number) => `${checkName(collection, 'collection')}__${generation}`;

const encodeKey = (key: string) =>
  /[.%\0]|^\$/.test(key) ? key.replace(/%/g, '%25').replace(/\./g, '%2E').replace(/\0/g, '%00').replace(/^\$/, '%24') : key;
const decodeKey = (key: string) =>
  key.includes('%') ? key.replace(/%(25|2E|24|00)/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))) : key;

/** Maps every object key (JSON semantics: undefined properties are left out, undefined array items become null). */
function mapKeys(value: unknown, key: (k: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : mapKeys(v, key)));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[key(k)] = mapKeys(v, key);
  return out;
}

const HIDDEN = ['_id', '_pos', '_s', '_t', '_o'];

/**
 * A term as one string, `<term>\u0001<value>`, ordered as the typed values are (numbers before strings): `n` + the
 * number's order-preserving 16 hex digits, or `s` + the string. (FerretDB 1.24 runs `$elemMatch` on scalars only, so
 * terms are strings; a range is `$elemMatch` of two bounds on one element.) Term names with \u0001 are not indexed.
 */
export function termString(term: string, value: SearchValue): string {
  if (typeof value === 'string') return `${term}\u0001s${value}`;
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleBE(value === 0 ? 0 : value);
  if (bytes[0] & 0x80) for (let i = 0; i < 8; i++) bytes[i] = ~bytes[i] & 0xff;
  else bytes[0] |= 0x80;
  return `${term}\u0001n${bytes.toString('hex')}`;
}

/** The `_t` condition of a term: equality, one of several, a range, or (none of them) having the term, on one element. */
function termFilter(term: string, r: ValueRange): Document {
  const cond: Document = {};
  if (r.eq !== undefined) cond.$eq = termString(term, r.eq);
  if (r.in !== undefined) cond.$in = r.in.map((v) => termString(term, v));
  const bounds = (
    [
      [r.gt, '$gt'],
      [r.gte, '$gte'],
      [r.lt, '$lt'],
      [r.lte, '$lte'],
    ] as Array<[SearchValue | undefined, string]>
  ).filter(([v]) => v !== undefined) as Array<[SearchValue, string]>;
  if (bounds.length === 0 && (r.eq !== undefined || r.in !== undefined)) return cond;
  const types = new Set(bounds.map(([v]) => typeof v));
  if (types.size > 1) return { $in: [] }; // a number bound and a string bound: no value is both
  // a range keeps to its bounds' type: numbers are `<term>\u0001n…`, strings `<term>\u0001s…`
  const [low, high] = types.has('number')
    ? [`${term}\u0001n`, `${term}\u0001o`]
    : types.has('string')
      ? [`${term}\u0001s`, `${term}\u0001t`]
      : [`${term}\u0001`, `${term}\u0002`];
  const range: Document = { $gte: low, $lt: high };
  for (const [v, op] of bounds) range[op] = termString(term, v);
  return { $elemMatch: { ...cond, ...range } };
}

/**
 * The stored form of a read-model document: `{_id, _pos, ...fields}` (what analytics consumers query), and with a
 * search spec its index fields `_s` and `_t`.
 */
export function toMongoDoc(put: Pick<PutDoc, 'id' | 'pos' | 'doc'>, search?: SearchSpec): Document {
  if (HIDDEN.some((k) => k in put.doc))
    throw new Error(`read-model document ${put.id} must not have top-level ${HIDDEN.join(', ')} fields`);
  const doc: Document = { _id: put.id, _pos: put.pos, ...(mapKeys(put.doc, encodeKey) as Document) };
  if (search) {
    const record = searchRecord(search, put.doc);
    doc._s = record.fields;
    const terms = record.terms.filter((t) => !t.t.includes('\u0001'));
    doc._t = terms.map((t) => termString(t.t, t.v));
    doc._o = Object.fromEntries(terms.filter((t) => t.t.includes(':')).map((t) => [encodeKey(t.t), t.v]));
  }
  return doc;
}

function fromMongoDoc<T>(stored: Document): StoredDoc<T> {
  const doc: Document = {};
  for (const [k, v] of Object.entries(stored)) if (!HIDDEN.includes(k)) doc[k] = v;
  const { _id, _pos } = stored;
  return { id: String(_id), pos: BigInt(_pos as bigint | number), doc: mapKeys(doc, decodeKey) as T };
}

const comparable = (stored: Document) => canonicalJson({ ...stored, _pos: String(stored._pos) });

/** MongoDB's string order (UTF-8 bytes), for merging two cursors sorted by _id. */
const compareIds = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class MongoReadModelStore implements ReadModelStore {
  readonly engine = 'mongodb' as const;
  private readonly catalog: Collection<CatalogDoc>;
  /** One-at-a-time limiters (p-limit) by model: writers of one model in this process take turns (see `exclusive`). */
  private readonly turns = new Map<string, pLimit.Limit>();
  private guardOf?: Promise<WriteGuard>;

  /** `guard` defaults to the server's (see WriteGuard); forcing `server` on FerretDB is correct, only slower. */
  constructor(
    readonly db: Db,
    private readonly client?: MongoClient,
    guard?: WriteGuard,
  ) {
    this.catalog = db.collection<CatalogDoc>(CATALOG);
    if (guard) this.guardOf = Promise.resolve(guard);
  }

  /** A store on the database named in the URL's path (default `journey`); the client connects on first use. */
  static fromUrl(url: string): MongoReadModelStore {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
    const dbName = /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(url)?.[1];
    return new MongoReadModelStore(client.db(dbName ? decodeURIComponent(dbName) : 'journey'), client);
  }

  async close(): Promise<void> {
    await this.client?.close();
  }

  async prepare(projection: Projection): Promise<void> {
    const collections = Object.fromEntries(projection.collections.map((c) => [c.name, collectionName(c.name, 1)]));
    try {
      await this.updateCatalog({ _id: projection.name }, { $setOnInsert: { position: 0n, generation: 1, collections } }, { upsert: true });
    } catch (error) {
      if (!(error instanceof MongoServerError && error.code === DUPLICATE_KEY)) throw error; // created concurrently
    }
    let entry = await this.entry(projection.name);
    // A collection the projection added since its catalog document was created starts in the live generation.
    for (const c of projection.collections.filter((c) => !entry.collections[c.name])) {
      await this.updateCatalog(
        { _id: projection.name, [`collections.${c.name}`]: { $exists: false } },
        { $set: { [`collections.${c.name}`]: collectionName(c.name, entry.generation) } },
      );
      entry = await this.entry(projection.name);
    }
    await this.createCollections(projection, entry);
  }

  async checkpoint(projection: string, target: ReadModelTarget = 'live'): Promise<bigint> {
    const entry = await this.catalog.findOne({ _id: projection }, READ);
    return (target === 'live' ? entry?.position : entry?.rebuild?.position) ?? 0n;
  }

  async applyBatch(
    projection: Projection,
    events: readonly RecordedEvent[],
    target: ReadModelTarget = 'live',
    options: ApplyOptions = {},
  ): Promise<bigint> {
    return this.exclusive(`${projection.name}/${target}`, () => this.apply(projection, events, target, options.replay));
  }

  async applyBatches(
    projections: readonly Projection[],
    events: readonly RecordedEvent[],
    target: ReadModelTarget = 'live',
    options: ApplyOptions = {},
  ): Promise<bigint[]> {
    return Promise.all(projections.map((p) => this.applyBatch(p, events, target, options)));
  }

  private async apply(projection: Projection, events: readonly RecordedEvent[], target: ReadModelTarget, replay = false): Promise<bigint> {
    const side = this.side(await this.entry(projection.name), target);
    const fresh = replay ? events : events.filter((e) => e.position > side.position);
    if (fresh.length === 0) return side.position;

    const guard = await this.guard();
    const loaded = new Map<string, StoredDoc>();
    const byCollection = new Map<string, Set<string>>();
    for (const ref of projection.reads(fresh))
      byCollection.set(ref.collection, (byCollection.get(ref.collection) ?? new Set()).add(ref.id));
    for (const [collection, ids] of byCollection) {
      for (const stored of await readDocs(this.collection(side, collection), [...ids], guard)) {
        loaded.set(docKey({ collection, id: String(stored._id) }), fromMongoDoc(stored));
      }
    }
    const commands: Array<() => Promise<void>> = [];
    const puts = new Map<string, PutDoc[]>();
    for (const put of projection.apply(fresh, (ref) => loaded.get(docKey(ref))))
      puts.set(put.collection, [...(puts.get(put.collection) ?? []), put]);
    const specs = new Map(projection.collections.map((c) => [c.name, c.search]));
    for (const [collection, docs] of puts) {
      const writes = docs.flatMap((put) => guardedWrite(put, loaded.get(docKey(put)), guard, specs.get(collection)));
      const target = this.collection(side, collection);
      for (let i = 0; i < writes.length; i += WRITES_PER_COMMAND)
        commands.push(() => writeOrdered(target, writes.slice(i, i + WRITES_PER_COMMAND)));
    }
    await inParallel(commands, COMMANDS_IN_FLIGHT[guard]);
    if (replay) return side.position;

    const position = fresh[fresh.length - 1].position;
    const at = target === 'live' ? '' : 'rebuild.';
    const moved = await this.updateCatalog(
      { _id: projection.name, [`${at}generation`]: side.generation, [`${at}position`]: { $lt: position } },
      { $set: { [`${at}position`]: position } },
    );
    if (moved.matchedCount === 1) return position;
    // Either another writer already moved the checkpoint further (our writes were no-ops), or a swap / new rebuild
    // replaced the collections we wrote to: then the batch must be applied again, from the checkpoint, to the new ones.
    const now = await this.entry(projection.name);
    const current = target === 'live' ? now : now.rebuild;
    if (current?.generation !== side.generation) {
      throw new Error(
        `${projection.name}: the ${target} collections were replaced during the batch (rebuild); retrying from the checkpoint`,
      );
    }
    return current.position;
  }

  async startRebuild(projection: Projection): Promise<void> {
    return this.exclusive(`${projection.name}/rebuild`, () => this.start(projection));
  }

  private async start(projection: Projection): Promise<void> {
    const entry = await this.entry(projection.name);
    const generation = Math.max(entry.generation, entry.rebuild?.generation ?? 0) + 1;
    // Earlier generations (the model a previous swap replaced, an abandoned rebuild) go now: nobody resolves them any more.
    const live = new Set(Object.values(entry.collections));
    const ours = new Set(projection.collections.map((c) => c.name));
    for (const { name } of await this.db.listCollections({}, { nameOnly: true }).toArray()) {
      const m = /^(.+)__\d+$/.exec(name);
      if (m && ours.has(m[1]) && !live.has(name)) await this.db.dropCollection(name);
    }
    const rebuild: Side = {
      generation,
      position: 0n,
      collections: Object.fromEntries(projection.collections.map((c) => [c.name, collectionName(c.name, generation)])),
    };
    await this.createCollections(projection, rebuild);
    await this.updateCatalog({ _id: projection.name }, { $set: { rebuild } });
  }

  async finishRebuild(projection: Projection, position: bigint): Promise<SwapReport | undefined> {
    return this.exclusive(`${projection.name}/live`, () =>
      this.exclusive(`${projection.name}/rebuild`, () => this.swap(projection, position)),
    );
  }

  private async swap(projection: Projection, position: bigint): Promise<SwapReport | undefined> {
    const entry = await this.entry(projection.name);
    const rebuild = entry.rebuild;
    if (entry.position !== position || rebuild?.position !== position) return undefined;
    const report: SwapReport = { documents: {}, differences: {} };
    for (const c of projection.collections) {
      const compared = await compareCollections(this.collection(entry, c.name), this.collection(rebuild, c.name), position);
      report.documents[c.name] = compared.documents;
      report.differences[c.name] = compared.differences;
    }
    const swapped = await this.updateCatalog(
      {
        _id: projection.name,
        generation: entry.generation,
        position: position,
        'rebuild.generation': rebuild.generation,
        'rebuild.position': position,
      },
      { $set: { generation: rebuild.generation, collections: rebuild.collections }, $unset: { rebuild: '' } },
    );
    return swapped.matchedCount === 1 ? report : undefined;
  }

  async get<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    const live = await this.live(collection);
    const stored = live && (await live.findOne({ _id: id } as Document, READ));
    return stored ? fromMongoDoc<T>(stored) : undefined;
  }

  async find<T>(collection: string, where: Record<string, FieldValue>, options: FindOptions = {}): Promise<Array<StoredDoc<T>>> {
    const live = await this.live(collection);
    const limit = options.limit === undefined ? undefined : Math.floor(options.limit);
    if (!live || (limit !== undefined && limit < 1)) return []; // (a MongoDB limit of 0 means none)
    const sort: Record<string, 1> = {};
    for (const f of options.orderBy ?? []) sort[checkName(f, 'field')] = 1;
    sort._id = 1;
    const after = options.after && { [checkName(options.after.field, 'field')]: { $gt: options.after.value } };
    const query = !after
      ? filter(where)
      : options.after!.field in where
        ? { $and: [filter(where), after] }
        : { ...filter(where), ...after };
    const docs = await live.find(query, { ...READ, sort, ...(limit !== undefined ? { limit } : {}) }).toArray();
    return docs.map((d) => fromMongoDoc<T>(d));
  }

  async countBy(collection: string, field: string, where: Record<string, FieldValue>): Promise<Array<{ value: unknown; count: number }>> {
    const live = await this.live(collection);
    if (!live) return [];
    const groups = await live
      .aggregate([
        { $match: filter(where) },
        { $group: { _id: `$${checkName(field, 'field')}`, count: { $sum: 1 } } },
        { $sort: { _id: 1 } },
      ])
      .toArray();
    return groups.map((g) => ({ value: mapKeys(g._id ?? null, decodeKey), count: Number(g.count) }));
  }

  /**
   * Runs `work` after every earlier write to the same model by this store. Across processes the `_pos` guards and the
   * catalog compare-and-set keep writers apart; within one they would only race for nothing — and on FerretDB, whose
   * updates are a read followed by an unconditional write (not atomic), such races could lose updates.
   */
  private exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
    let limit = this.turns.get(key);
    if (!limit) this.turns.set(key, (limit = pLimit(1)));
    const turn = limit;
    return turn(async () => {
      try {
        return await work();
      } finally {
        if (turn.pendingCount === 0 && this.turns.get(key) === turn) this.turns.delete(key); // the last in line
      }
    });
  }

  /**
   * Writes of the catalog document of one model take turns in this process, whichever side (live, rebuild) they
   * come from: on FerretDB an update rewrites the whole document it read, so a live checkpoint written beside the
   * start of a rebuild could drop the rebuild. (Across processes the compare-and-set filters decide.)
   */
  private updateCatalog(
    filter: Filter<CatalogDoc>,
    update: UpdateFilter<CatalogDoc>,
    options?: UpdateOptions,
  ): Promise<UpdateResult<CatalogDoc>> {
    return this.exclusive(`${String(filter._id)}/catalog`, () => this.catalog.updateOne(filter, update, options));
  }

  /** `client` on FerretDB (its buildInfo names its version), `server` on MongoDB; asked once. */
  private guard(): Promise<WriteGuard> {
    this.guardOf ??= this.db.command({ buildInfo: 1 }).then(
      (info) => (info.ferretdbVersion === undefined ? 'server' : 'client'),
      (error: unknown) => {
        this.guardOf = undefined;
        throw error;
      },
    );
    return this.guardOf;
  }

  private async entry(projection: string): Promise<CatalogDoc> {
    const entry = await this.catalog.findOne({ _id: projection }, READ);
    if (!entry) throw new Error(`read model ${projection} is not prepared (no ${CATALOG} document)`);
    return entry;
  }

  private side(entry: CatalogDoc, target: ReadModelTarget): Side {
    if (target === 'live') return entry;
    if (!entry.rebuild) throw new Error(`read model ${entry._id}: no rebuild in progress`);
    return entry.rebuild;
  }

  private collection(side: Side, collection: string): Collection {
    const name = side.collections[collection];
    if (!name) throw new Error(`read-model collection "${collection}" is not part of this projection`);
    return this.db.collection(name);
  }

  /** The live collection holding `collection` (resolved on every call, so a swap is seen at once). */
  private async live(collection: string): Promise<Collection | undefined> {
    const entry = await this.catalog.findOne(
      { [`collections.${checkName(collection, 'collection')}`]: { $exists: true } },
      { projection: { collections: 1 } },
    );
    return entry ? this.db.collection(entry.collections[collection]) : undefined;
  }

  private async createCollections(projection: Projection, side: Side): Promise<void> {
    for (const c of projection.collections) {
      const name = side.collections[c.name];
      try {
        await this.db.createCollection(name);
      } catch (error) {
        if (!(error instanceof MongoServerError && error.code === NAMESPACE_EXISTS)) throw error;
      }
      for (const fields of c.indexes) {
        await this.db
          .collection(name)
          .createIndex(Object.fromEntries(fields.map((f) => [checkName(f, 'field'), 1])), { name: fields.join('_') });
      }
      for (const [index, keys] of searchIndexes(c)) await this.db.collection(name).createIndex(keys, { name: index });
    }
  }

  async search<T>(collection: SearchableCollection, q: SearchQuery): Promise<SearchPage<T>> {
    const spec = collection.search;
    checkSearchQuery(spec, q);
    const live = await this.live(collection.name);
    if (!live) return { hits: [], more: false, ...(q.count !== undefined && { total: 0 }) };
    const { partition, key } = { partition: checkName(spec.partition, 'field'), key: checkName(spec.key, 'field') };
    const and: Document[] = [{ [partition]: q.partition }];
    if (q.keyPrefix) {
      const end = prefixEnd(q.keyPrefix);
      and.push({ [key]: { $gte: q.keyPrefix, ...(end !== undefined && { $lt: end }) } });
    }
    for (const [f, range] of Object.entries(q.fields ?? {})) and.push({ [`_s.${checkName(f, 'field')}`]: rangeFilter(range) });
    for (const term of q.terms ?? []) {
      const t = termOf(term.field, term.name);
      and.push({ _t: termFilter(t, term.range) });
      // FerretDB 1.24 lets the bounds of an $elemMatch hold on different elements: the trait's own scalar decides
      const r = term.range;
      if (term.name !== undefined && [r.gt, r.gte, r.lt, r.lte].some((v) => v !== undefined))
        and.push({ [`_o.${encodeKey(t)}`]: rangeFilter({ gt: r.gt, gte: r.gte, lt: r.lt, lte: r.lte }) });
    }
    const order = q.order;
    const dir = order.direction === 'desc' ? -1 : 1;
    const sortPath =
      order.by === 'key'
        ? key
        : order.by === 'field'
          ? `_s.${checkName(order.field, 'field')}`
          : `_o.${encodeKey(termOf(order.field, order.name))}`;
    if (order.by === 'term') and.push({ [sortPath]: { $exists: true } });
    const filter: Document = and.length === 1 ? and[0] : { $and: and };
    const keyset = q.after ? afterFilter(sortPath, key, order.by === 'key', q.after, dir) : undefined;
    const docs = await live
      .find(keyset ? { $and: [...and, keyset] } : filter, { ...READ, sort: { [sortPath]: dir, [key]: dir }, limit: q.limit + 1 })
      .toArray();
    const page: SearchPage<T> = {
      hits: docs.slice(0, q.limit).map((d) => {
        const sortValue = (
          order.by === 'key'
            ? d[key]
            : order.by === 'field'
              ? (d._s as Document)[order.field]
              : (d._o as Document)[encodeKey(termOf(order.field, order.name))]
        ) as SearchValue | bigint;
        return { ...fromMongoDoc<T>(d), sortValue: typeof sortValue === 'bigint' ? Number(sortValue) : sortValue, key: String(d[key]) };
      }),
      more: docs.length > q.limit,
    };
    if (q.count !== undefined) {
      const total = await live.countDocuments(filter, q.count === true ? {} : { limit: Math.floor(q.count) + 1 });
      if (q.count === true) page.total = total;
      else Object.assign(page, { total: Math.min(total, q.count), totalCapped: total > q.count });
    }
    return page;
  }
}

/** The search indexes of a collection (deploy/mongodb.md): by key, by each field, and the terms (multikey). */
function searchIndexes(c: CollectionSpec): Array<[string, Document]> {
  if (!c.search) return [];
  const p = checkName(c.search.partition, 'field');
  const k = checkName(c.search.key, 'field');
  return [
    ['search_key', { [p]: 1, [k]: 1 }],
    ...Object.keys(c.search.fields).map((f): [string, Document] => [`search_${f}`, { [p]: 1, [`_s.${checkName(f, 'field')}`]: 1, [k]: 1 }]),
    ['search_terms', { [p]: 1, _t: 1, [k]: 1 }],
  ];
}

/** A value condition: MongoDB compares within a type (numbers, strings), as the SQLite adapter's bounds do. */
function rangeFilter(r: ValueRange): Document {
  const out: Document = {};
  const types = new Set([r.gt, r.gte, r.lt, r.lte].filter((v) => v !== undefined).map((v) => typeof v));
  if (types.size > 1) return { $in: [] }; // a number bound and a string bound: no value is both
  if (r.eq !== undefined) out.$eq = r.eq;
  if (r.in !== undefined) out.$in = r.in;
  if (r.gt !== undefined) out.$gt = r.gt;
  if (r.gte !== undefined) out.$gte = r.gte;
  if (r.lt !== undefined) out.$lt = r.lt;
  if (r.lte !== undefined) out.$lte = r.lte;
  return out;
}

/**
 * Keyset paging after (value, key) in the order (numbers before strings): later values of the same type, values of
 * the type that sorts after it (strings after a number ascending, numbers after a string descending), or the same
 * value with a later key.
 */
function afterFilter(path: string, key: string, byKey: boolean, after: { value: SearchValue; key: string }, dir: 1 | -1): Document {
  const op = dir === 1 ? '$gt' : '$lt';
  if (byKey) return { [key]: { [op]: after.key } };
  const later: Document[] = [{ [path]: { [op]: after.value } }, { [path]: after.value, [key]: { [op]: after.key } }];
  if (dir === 1 && typeof after.value === 'number') later.push({ [path]: { $type: 'string' } });
  if (dir === -1 && typeof after.value === 'string') later.push({ [path]: { $type: 'number' } });
  return { $or: later };
}

function filter(where: Record<string, FieldValue>): Document {
  for (const k of Object.keys(where)) checkName(k, 'field');
  return { ...where };
}

/**
 * Where the `_pos` guard of a write to an existing document is checked. `server` (MongoDB): in the filter,
 * `{_id, _pos: {$lt: pos}}`, atomic and served by the _id index. `client` (FerretDB, which uses the _id index only for a
 * filter that is exactly `{_id: x}` and scans the collection otherwise): against the `_pos` this batch read, writing by
 * `{_id}` — sound while one writer per model writes it, which FerretDB's non-atomic updates require anyway.
 */
export type WriteGuard = 'server' | 'client';

/** The batch's stored documents: one `$in` query where it is indexed, otherwise exact `{_id}` lookups. */
async function readDocs(collection: Collection, ids: string[], guard: WriteGuard): Promise<Document[]> {
  if (guard === 'server') return collection.find({ _id: { $in: ids } } as Document, READ).toArray();
  const found: Document[] = [];
  await inParallel(
    ids.map((id) => async () => {
      const stored = await collection.findOne({ _id: id } as Document, READ);
      if (stored) found.push(stored);
    }),
    READS_IN_FLIGHT,
  );
  return found;
}

/**
 * The write of one changed document: an insert when the batch found none, else a replace guarded by `_pos` (none when
 * the stored document is already at or past the put, which the projection never produces).
 */
function guardedWrite(put: PutDoc, stored: StoredDoc | undefined, guard: WriteGuard, search?: SearchSpec): AnyBulkWriteOperation[] {
  const doc = toMongoDoc(put, search);
  if (!stored) return [{ insertOne: { document: doc } }];
  if (stored.pos >= put.pos) return [];
  return [guard === 'server' ? guardedReplace(doc) : { replaceOne: { filter: { _id: doc._id }, replacement: doc } }];
}

const guardedReplace = (doc: Document): AnyBulkWriteOperation => ({
  replaceOne: { filter: { _id: doc._id, _pos: { $lt: doc._pos } }, replacement: doc },
});

/**
 * One ordered bulkWrite. An insert that finds the document already there (another writer created it after this batch
 * read, E11000) is retried as the replace guarded by `_pos` in the filter, which leaves a newer document alone.
 */
async function writeOrdered(collection: Collection, ops: AnyBulkWriteOperation[]): Promise<void> {
  while (ops.length > 0) {
    try {
      await collection.bulkWrite(ops, { ordered: true });
      return;
    } catch (error) {
      const failed = error instanceof MongoBulkWriteError ? [error.writeErrors].flat()[0] : undefined;
      const op = failed && ops[failed.index];
      if (!op || failed.code !== DUPLICATE_KEY || !('insertOne' in op)) throw error;
      // Ordered: everything before the failed insert is written, nothing after it.
      ops = [guardedReplace(op.insertOne.document), ...ops.slice(failed.index + 1)];
    }
  }
}

/** Runs the tasks, at most `limit` at a time; after a failure starts no more, waits for the running ones, then throws. */
async function inParallel(tasks: Array<() => Promise<void>>, limit: number): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (errors.length === 0 && next < tasks.length) {
      try {
        await tasks[next++]();
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/**
 * Walks both collections in _id order: documents in `rebuilt`, and documents present or different in only one. Live
 * documents beyond `position` are a concurrent writer's batch whose checkpoint is not stored yet (the swap will make it
 * retry): they are not compared.
 */
async function compareCollections(
  live: Collection,
  rebuilt: Collection,
  position: bigint,
): Promise<{ documents: number; differences: number }> {
  const a = live.find({}, { ...READ, sort: { _id: 1 } })[Symbol.asyncIterator]();
  const b = rebuilt.find({}, { ...READ, sort: { _id: 1 } })[Symbol.asyncIterator]();
  let [x, y] = await Promise.all([a.next(), b.next()]);
  let documents = 0;
  let differences = 0;
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : compareIds(String(x.value._id), String(y.value._id));
    if (order >= 0) documents += 1;
    const inFlight = order <= 0 && (x.value as Document)._pos > position;
    if (!inFlight && (order !== 0 || comparable(x.value as Document) !== comparable(y.value as Document))) differences += 1;
    if (order <= 0) x = await a.next();
    if (order >= 0) y = await b.next();
  }
  return { documents, differences };
}
