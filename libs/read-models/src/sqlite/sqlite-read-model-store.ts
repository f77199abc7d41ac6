/**
 * Read models as tables in the engine's SQLite file (the embedded default).
 *
 * Tables, one per collection of each projection:
 *   rm_<collection>           (id TEXT PRIMARY KEY, pos INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID
 *       id  = document id (e.g. customers: "<workspace>/<customerId>", URI-encoded parts)
 *       pos = global position of the last event applied to the document
 *       doc = the document as JSON (keys in the projection's order: the rebuild comparison sorts them, see canonicalJson);
 *             query it with json_extract(doc, '$.field')
 *     indexes rm_<collection>_<fields> on json_extract(doc, '$.<field>') for each index the projection declares.
 *     rm_customers          one CustomerState per customer (see libs/domain/src/customer.ts)
 *     rm_stage_transitions  {workspaceId, day, from, to, count}
 *   rm_<collection>__search   for a collection with a search index (customers; see ../search.ts), one row per document:
 *       (id TEXT PRIMARY KEY, p, k, f_<field>...) WITHOUT ROWID: p = partition (workspaceId), k = key (customerId),
 *       f_<field> = each search field (rm_customers: f_stage, f_lastSeen, f_health; '' / 0 when the document has none),
 *       columns without affinity (numbers stay numbers, strings strings); indexes rm_<collection>__search_key (p, k)
 *       and rm_<collection>__search_f_<field> (p, f_<field>, k)
 *   rm_<collection>__terms    one row per term of a document: (p, t, v, k, id), PRIMARY KEY (p, t, v, k) WITHOUT ROWID;
 *       t = "traits:<name>" (a scalar trait) or "segments" (v = a segment id); v = the typed value (searchScalar)
 *     Both are written in the transaction of the document (only the terms that changed), and compared by a rebuild.
 *     A search (GET /v1/customers) is one SELECT over them (searchPlan below), every value a bound parameter: a trait
 *     or segment filter drives from rm_<collection>__terms by its primary key (equality: (p, t, v) then k in order, so a
 *     filtered page is one index range scan), further terms are primary-key probes, fields are conditions on the search
 *     row; without terms the search row's index of the order drives (p, k) or (p, f_<field>, k); `sort=trait.<name>`
 *     drives from that trait's terms in (v, k) order. Pages are keysets: (order value, k) > the cursor's, as a row value.
 *     A model written before its collection had these tables gets them filled from its documents by `prepare`.
 *   rm_<collection>__rebuild  the same, filled by a rebuild, then renamed over rm_<collection> (and
 *       rm_<collection>__rebuild__search / __terms over rm_<collection>__search / __terms).
 *   checkpoints (name, position)  shared with the other subscribers: "<projection>" for the live model,
 *       "<projection>#rebuild" while a rebuild runs. Written in the same transaction as the documents.
 * Write transactions are IMMEDIATE: other processes may write the same file (reactors in processes of their own), and a
 * deferred transaction that read first fails with SQLITE_BUSY instead of waiting when it then needs to write.
 */
import type { Statement } from 'better-sqlite3';
import { canonicalJson, type RecordedEvent } from '@journey/domain';
import { SqliteCheckpointStore, writeLocked, type SqliteDatabase } from '@journey/event-store';
import { docKey, type CollectionSpec, type Projection, type SearchableCollection, type StoredDoc } from '../projection';
import {
  checkSearchQuery,
  prefixEnd,
  searchRecord,
  termOf,
  type SearchPage,
  type SearchQuery,
  type SearchRecord,
  type SearchSpec,
  type SearchValue,
  type ValueRange,
} from '../search';
import type { ApplyOptions, FieldValue, FindOptions, ReadModelStore, ReadModelTarget, SwapReport } from '../store.port';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function table(collection: string, target: ReadModelTarget = 'live'): string {
  if (!NAME.test(collection)) throw new Error(`invalid collection name "${collection}"`);
  return target === 'live' ? `rm_${collection}` : `rm_${collection}__rebuild`;
}

function field(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid field name "${name}"`);
  return `json_extract(doc, '$.${name}')`;
}

const checkpointName = (projection: string, target: ReadModelTarget = 'live') => (target === 'live' ? projection : `${projection}#rebuild`);

interface TableStatements {
  get: Statement<[string], Row>;
  put: Statement<[string, bigint, string], unknown>;
  search?: SearchStatements;
}

interface SearchStatements {
  put: Statement<unknown[], unknown>;
  addTerm: Statement<[string, string, SearchValue, string, string], unknown>;
  dropTerm: Statement<[string, string, SearchValue, string], unknown>;
}

const searchTable = (t: string) => `${t}__search`;
const termsTable = (t: string) => `${t}__terms`;
const fieldColumn = (f: string) => `"f_${f}"`;

interface Row {
  id: string;
  pos: number | bigint;
  doc: string;
}

export class SqliteReadModelStore implements ReadModelStore {
  readonly engine = 'sqlite' as const;
  private readonly checkpoints: SqliteCheckpointStore;
  private readonly statements = new Map<string, TableStatements>();

  constructor(private readonly db: SqliteDatabase) {
    this.checkpoints = new SqliteCheckpointStore(db);
  }

  async prepare(projection: Projection): Promise<void> {
    await writeLocked(this.db, () =>
      this.db
        .transaction(() => {
          for (const c of projection.collections) {
            const indexed = !c.search || this.tableExists(searchTable(table(c.name)));
            this.createTable(c, 'live');
            if (!indexed) this.backfillSearch(c as SearchableCollection);
            this.createIndexes(c);
          }
        })
        .immediate(),
    );
  }

  async checkpoint(projection: string, target: ReadModelTarget = 'live'): Promise<bigint> {
    return this.checkpoints.getSync(checkpointName(projection, target)) ?? 0n;
  }

  async applyBatch(projection: Projection, events: readonly RecordedEvent[], target: ReadModelTarget = 'live'): Promise<bigint> {
    return (await this.applyBatches([projection], events, target))[0];
  }

  async applyBatches(
    projections: readonly Projection[],
    events: readonly RecordedEvent[],
    target: ReadModelTarget = 'live',
    options: ApplyOptions = {},
  ): Promise<bigint[]> {
    return writeLocked(this.db, () =>
      this.db.transaction(() => projections.map((p) => this.applySync(p, events, target, options.replay))).immediate(),
    );
  }

  private applySync(projection: Projection, events: readonly RecordedEvent[], target: ReadModelTarget, replay = false): bigint {
    const name = checkpointName(projection.name, target);
    const checkpoint = this.checkpoints.getSync(name) ?? 0n;
    const fresh = replay || (events[0] && events[0].position > checkpoint) ? events : events.filter((e) => e.position > checkpoint);
    if (fresh.length === 0) return checkpoint;
    const loaded = new Map<string, StoredDoc>();
    const read = new Set<string>();
    for (const ref of projection.reads(fresh)) {
      const doc = this.getSync(ref.collection, ref.id, target);
      read.add(docKey(ref));
      if (doc) loaded.set(docKey(ref), doc);
    }
    const specs = new Map(projection.collections.map((c) => [c.name, c.search]));
    for (const put of projection.apply(fresh, (ref) => loaded.get(docKey(ref)))) {
      const statements = this.tableStatements(put.collection, target, specs.get(put.collection));
      // the index entries it had: from the document as read (none when it was read and not found)
      const before = statements.search && (read.has(docKey(put)) ? loaded.get(docKey(put)) : this.getSync(put.collection, put.id, target));
      const written = statements.put.run(put.id, put.pos, JSON.stringify(put.doc)) as { changes: number };
      if (statements.search && written.changes > 0) {
        const spec = specs.get(put.collection)!;
        writeSearch(statements.search, spec, put.id, before && searchRecord(spec, before.doc), searchRecord(spec, put.doc));
      }
    }
    if (replay) return checkpoint;
    const position = fresh[fresh.length - 1].position;
    this.checkpoints.setSync(name, position);
    return position;
  }

  async startRebuild(projection: Projection): Promise<void> {
    await writeLocked(this.db, () =>
      this.db
        .transaction(() => {
          for (const c of projection.collections) {
            const t = table(c.name, 'rebuild');
            this.db.exec(`DROP TABLE IF EXISTS ${t}; DROP TABLE IF EXISTS ${searchTable(t)}; DROP TABLE IF EXISTS ${termsTable(t)};`);
            this.createTable(c, 'rebuild');
          }
          this.checkpoints.setSync(checkpointName(projection.name, 'rebuild'), 0n);
        })
        .immediate(),
    );
  }

  async finishRebuild(projection: Projection, position: bigint): Promise<SwapReport | undefined> {
    const swap = this.db.transaction((): SwapReport | undefined => {
      const live = this.checkpoints.getSync(checkpointName(projection.name, 'live')) ?? 0n;
      const rebuilt = this.checkpoints.getSync(checkpointName(projection.name, 'rebuild')) ?? 0n;
      if (live !== position || rebuilt !== position) return undefined;
      const report: SwapReport = { documents: {}, differences: {} };
      for (const c of projection.collections) {
        const [a, b] = [table(c.name, 'live'), table(c.name, 'rebuild')];
        report.documents[c.name] = (this.db.prepare(`SELECT COUNT(*) AS n FROM ${b}`).get() as { n: number }).n;
        const differing = this.differences(a, b);
        if (c.search)
          for (const side of [searchTable, termsTable]) for (const id of this.differingRows(side(a), side(b))) differing.add(id);
        report.differences[c.name] = differing.size;
        this.db.exec(`DROP TABLE ${a}; ALTER TABLE ${b} RENAME TO ${a};`);
        if (c.search)
          for (const side of [searchTable, termsTable])
            this.db.exec(`DROP TABLE IF EXISTS ${side(a)}; ALTER TABLE ${side(b)} RENAME TO ${side(a)};`);
        this.createIndexes(c);
      }
      this.db.prepare('DELETE FROM checkpoints WHERE name = ?').run(checkpointName(projection.name, 'rebuild'));
      return report;
    });
    return writeLocked(this.db, () => swap.immediate());
  }

  async get<T>(collection: string, id: string): Promise<StoredDoc<T> | undefined> {
    return this.getSync(collection, id, 'live') as StoredDoc<T> | undefined;
  }

  async find<T>(collection: string, where: Record<string, FieldValue>, options: FindOptions = {}): Promise<Array<StoredDoc<T>>> {
    const { clause, params } = whereClause(where, options.after);
    const order = options.orderBy?.length ? ` ORDER BY ${options.orderBy.map(field).join(', ')}` : ' ORDER BY id';
    const limit = options.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(options.limit))}` : '';
    const rows = this.db.prepare<unknown[], Row>(`SELECT id, pos, doc FROM ${table(collection)}${clause}${order}${limit}`).all(...params);
    return rows.map((r) => toStored<T>(r));
  }

  async countBy(
    collection: string,
    fieldName: string,
    where: Record<string, FieldValue>,
  ): Promise<Array<{ value: unknown; count: number }>> {
    const { clause, params } = whereClause(where);
    return this.db
      .prepare<unknown[], { value: unknown; count: number }>(
        `SELECT ${field(fieldName)} AS value, COUNT(*) AS count FROM ${table(collection)}${clause} GROUP BY value ORDER BY value`,
      )
      .all(...params);
  }

  private getSync(collection: string, id: string, target: ReadModelTarget): StoredDoc | undefined {
    const row = this.tableStatements(collection, target).get.get(id) as Row | undefined;
    return row ? toStored(row) : undefined;
  }

  /** Statements are cached per table; SQLite re-prepares them itself after a swap changes the schema. */
  private tableStatements(collection: string, target: ReadModelTarget, spec?: SearchSpec): TableStatements {
    const key = `${collection}/${target}`;
    let s = this.statements.get(key);
    if (!s || (spec && !s.search)) {
      const t = table(collection, target);
      s = {
        get: this.db.prepare(`SELECT id, pos, doc FROM ${t} WHERE id = ?`),
        put: this.db.prepare(
          `INSERT INTO ${t} (id, pos, doc) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET pos = excluded.pos, doc = excluded.doc WHERE pos < excluded.pos`,
        ),
      };
      if (spec) {
        const fields = Object.keys(spec.fields);
        s.search = {
          put: this.db.prepare(
            `INSERT OR REPLACE INTO ${searchTable(t)} (id, p, k${fields.map((f) => `, ${fieldColumn(f)}`).join('')}) VALUES (?, ?, ?${', ?'.repeat(fields.length)})`,
          ),
          addTerm: this.db.prepare(`INSERT OR REPLACE INTO ${termsTable(t)} (p, t, v, k, id) VALUES (?, ?, ?, ?, ?)`),
          dropTerm: this.db.prepare(`DELETE FROM ${termsTable(t)} WHERE p = ? AND t = ? AND v = ? AND k = ?`),
        };
      }
      this.statements.set(key, s);
    }
    return s;
  }

  async search<T>(collection: SearchableCollection, q: SearchQuery): Promise<SearchPage<T>> {
    const spec = collection.search;
    checkSearchQuery(spec, q);
    Object.keys(spec.fields).forEach((f) => field(f)); // names checked
    const t = table(collection.name);
    const plan = searchPlan(spec, q, t);
    const rows = this.db
      .prepare<unknown[], { id: string; doc: string; sv: SearchValue | bigint; sk: string }>(
        `SELECT m.id AS id, m.doc AS doc, ${plan.sortColumn} AS sv, ${plan.keyColumn} AS sk FROM ${plan.from} CROSS JOIN ${t} AS m ON m.id = s.id
         WHERE ${[...plan.where, ...plan.keyset].join(' AND ')}
         ORDER BY ${plan.sortColumn} ${plan.dir}, ${plan.keyColumn} ${plan.dir} LIMIT ${q.limit + 1}`,
      )
      .all(...plan.params, ...plan.keysetParams);
    const page: SearchPage<T> = {
      hits: rows.slice(0, q.limit).map((r) => ({
        id: r.id,
        doc: JSON.parse(r.doc) as T,
        sortValue: typeof r.sv === 'bigint' ? Number(r.sv) : r.sv,
        key: r.sk,
      })),
      more: rows.length > q.limit,
    };
    if (q.count !== undefined) {
      const bound = q.count === true ? '' : ` LIMIT ${Math.max(0, Math.floor(q.count)) + 1}`;
      const { n } = this.db
        .prepare<unknown[], { n: number }>(
          `SELECT COUNT(*) AS n FROM (SELECT 1 FROM ${plan.countFrom} WHERE ${plan.where.join(' AND ')}${bound})`,
        )
        .get(...plan.params)!;
      const total = Number(n);
      if (q.count === true) page.total = total;
      else Object.assign(page, { total: Math.min(total, q.count), totalCapped: total > q.count });
    }
    return page;
  }

  private tableExists(name: string): boolean {
    return this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
  }

  /** A model written before its collection had a search index: index every document it has (once, in prepare). */
  private backfillSearch(c: SearchableCollection): void {
    const statements = this.tableStatements(c.name, 'live', c.search);
    const next = this.db.prepare<[string], Row>(`SELECT id, pos, doc FROM ${table(c.name)} WHERE id > ? ORDER BY id LIMIT 1000`);
    for (let rows = next.all(''); rows.length > 0; rows = next.all(rows[rows.length - 1].id))
      for (const row of rows)
        writeSearch(
          statements.search!,
          c.search,
          row.id,
          undefined,
          searchRecord(c.search, JSON.parse(row.doc) as Record<string, unknown>),
        );
  }

  /** Ids of the rows that are in only one of two tables of the same shape (a side table of a rebuild and its live one). */
  private differingRows(a: string, b: string): Set<string> {
    const rows = this.db
      .prepare<[], { id: string }>(
        `SELECT id FROM (SELECT * FROM ${a} EXCEPT SELECT * FROM ${b}) UNION SELECT id FROM (SELECT * FROM ${b} EXCEPT SELECT * FROM ${a})`,
      )
      .all();
    return new Set(rows.map((r) => r.id));
  }

  /** Documents that differ between two tables: missing on one side, another `pos`, or other content (key order aside). */
  private differences(a: string, b: string): Set<string> {
    const rows = this.db
      .prepare<[], { id: string; l: string | null; r: string | null; lpos: number | null; rpos: number | null }>(
        `SELECT COALESCE(${a}.id, ${b}.id) AS id, ${a}.doc AS l, ${b}.doc AS r, ${a}.pos AS lpos, ${b}.pos AS rpos FROM ${a} FULL OUTER JOIN ${b} ON ${a}.id = ${b}.id
         WHERE ${a}.id IS NULL OR ${b}.id IS NULL OR ${a}.pos != ${b}.pos OR ${a}.doc != ${b}.doc`,
      )
      .all();
    return new Set(
      rows
        .filter(
          (row) =>
            row.l === null ||
            row.r === null ||
            row.lpos !== row.rpos ||
            canonicalJson(JSON.parse(row.l)) !== canonicalJson(JSON.parse(row.r)),
        )
        .map((row) => row.id),
    );
  }

  private createTable(c: CollectionSpec, target: ReadModelTarget): void {
    const t = table(c.name, target);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, pos INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`);
    if (c.search) {
      const fields = Object.keys(c.search.fields).map((f) => (field(f), `, ${fieldColumn(f)}`));
      this.db.exec(
        `CREATE TABLE IF NOT EXISTS ${searchTable(t)} (id TEXT PRIMARY KEY, p TEXT NOT NULL, k TEXT NOT NULL${fields.join('')}) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS ${termsTable(t)} (p TEXT NOT NULL, t TEXT NOT NULL, v NOT NULL, k TEXT NOT NULL, id TEXT NOT NULL,
           PRIMARY KEY (p, t, v, k)) WITHOUT ROWID;`,
      );
    }
  }

  /** Secondary indexes, on the live tables only (a rebuild fills its tables without them; the swap adds them). */
  private createIndexes(c: CollectionSpec): void {
    for (const fields of c.indexes) {
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${table(c.name)}_${fields.join('_')} ON ${table(c.name)} (${fields.map(field).join(', ')})`);
    }
    if (c.search) {
      const s = searchTable(table(c.name));
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${s}_key ON ${s} (p, k)`);
      for (const f of Object.keys(c.search.fields))
        this.db.exec(`CREATE INDEX IF NOT EXISTS ${s}_f_${f} ON ${s} (p, ${fieldColumn(f)}, k)`);
    }
  }
}

function whereClause(where: Record<string, FieldValue>, after?: FindOptions['after']): { clause: string; params: FieldValue[] } {
  const terms = Object.keys(where).map((k) => `${field(k)} = ?`);
  const params = Object.values(where);
  if (after) {
    terms.push(`${field(after.field)} > ?`);
    params.push(after.value);
  }
  if (terms.length === 0) return { clause: '', params: [] };
  return { clause: ` WHERE ${terms.join(' AND ')}`, params };
}

function toStored<T>(row: Row): StoredDoc<T> {
  return { id: row.id, pos: BigInt(row.pos), doc: JSON.parse(row.doc) as T };
}

/** Writes a document's search row when its fields changed, and of its terms only those that changed. */
function writeSearch(
  statements: SearchStatements,
  spec: SearchSpec,
  id: string,
  before: SearchRecord | undefined,
  after: SearchRecord,
): void {
  const fields = Object.keys(spec.fields);
  const same =
    before && before.partition === after.partition && before.key === after.key && fields.every((f) => before.fields[f] === after.fields[f]);
  if (!same) statements.put.run(id, after.partition, after.key, ...fields.map((f) => after.fields[f]));
  const termKey = (r: SearchRecord, term: { t: string; v: SearchValue }) =>
    `${r.partition}\u0000${r.key}\u0000${term.t}\u0000${typeof term.v}\u0000${term.v}`;
  const kept = new Set(after.terms.map((term) => termKey(after, term)));
  const had = new Set<string>();
  for (const term of before?.terms ?? []) {
    const k = termKey(before!, term);
    had.add(k);
    if (!kept.has(k)) statements.dropTerm.run(before!.partition, term.t, term.v, before!.key);
  }
  for (const term of after.terms)
    if (!had.has(termKey(after, term))) statements.addTerm.run(after.partition, term.t, term.v, after.key, id);
}

interface SearchPlan {
  from: string;
  countFrom: string;
  where: string[];
  params: unknown[];
  keyset: string[];
  keysetParams: unknown[];
  sortColumn: string;
  keyColumn: string;
  dir: 'ASC' | 'DESC';
}

/**
 * The SQL of a search. The driving index: a trait order drives from that term's rows (in value order); otherwise the
 * first term filter drives (its rows, in key order for an equality: a trait filter with paging is one index range
 * scan), the other terms are probed by primary key; without terms, the search rows in the order's index.
 */
function searchPlan(spec: SearchSpec, q: SearchQuery, t: string): SearchPlan {
  const where: string[] = [];
  const params: unknown[] = [];
  const terms = [...(q.terms ?? [])];
  const order = q.order;
  let driver: { t: string; range?: ValueRange } | undefined;
  if (order.by === 'term') {
    const term = termOf(order.field, order.name);
    const i = terms.findIndex((f) => termOf(f.field, f.name) === term);
    driver = { t: term, range: i >= 0 ? terms.splice(i, 1)[0].range : undefined };
  } else if (terms.length > 0) {
    const i = Math.max(
      0,
      terms.findIndex((f) => f.range.eq !== undefined),
    );
    const first = terms.splice(i, 1)[0];
    driver = { t: termOf(first.field, first.name), range: first.range };
  }
  let from = `${searchTable(t)} AS s`;
  if (driver) {
    from = `${termsTable(t)} AS d CROSS JOIN ${searchTable(t)} AS s ON s.id = d.id`;
    where.push('d.p = ?', 'd.t = ?');
    params.push(q.partition, driver.t);
    if (driver.range) rangeSql('d.v', driver.range, where, params);
  }
  // driving from the terms, the document's partition is the driver's (d.p): the search row only joins for its fields
  if (!driver) {
    where.push('s.p = ?');
    params.push(q.partition);
  }
  const [partitionColumn, keyColumn] = driver ? ['d.p', 'd.k'] : ['s.p', 's.k'];
  if (q.keyPrefix) {
    const end = prefixEnd(q.keyPrefix);
    rangeSql(keyColumn, { gte: q.keyPrefix, ...(end !== undefined && { lt: end }) }, where, params);
  }
  for (const [f, range] of Object.entries(q.fields ?? {})) rangeSql(`s.${fieldColumn(f)}`, range, where, params);
  for (const term of terms) {
    const sub: string[] = [`x.p = ${partitionColumn}`, 'x.t = ?'];
    params.push(termOf(term.field, term.name));
    rangeSql('x.v', term.range, sub, params);
    where.push(`EXISTS (SELECT 1 FROM ${termsTable(t)} AS x WHERE ${sub.join(' AND ')} AND x.k = ${keyColumn})`);
  }
  const sortColumn = order.by === 'key' ? keyColumn : order.by === 'field' ? `s.${fieldColumn(order.field)}` : 'd.v';
  const dir = order.direction === 'desc' ? 'DESC' : 'ASC';
  const keyset: string[] = [];
  const keysetParams: unknown[] = [];
  if (q.after) {
    const cmp = dir === 'ASC' ? '>' : '<';
    if (order.by === 'key') {
      keyset.push(`${keyColumn} ${cmp} ?`);
      keysetParams.push(q.after.key);
    } else {
      keyset.push(`(${sortColumn}, ${keyColumn}) ${cmp} (?, ?)`);
      keysetParams.push(q.after.value, q.after.key);
    }
  }
  // a count needs the search rows only for their fields
  const countFrom = driver && Object.keys(q.fields ?? {}).length === 0 ? `${termsTable(t)} AS d` : from;
  return { from, countFrom, where, params, keyset, keysetParams, sortColumn, keyColumn, dir };
}

/**
 * A value condition. Columns hold numbers and strings (no affinity), numbers sorting before strings: a range bound
 * keeps to its type (a number bound: `< ''`, below every string; a string bound: `>= ''` and `< X''`, below every blob).
 */
function rangeSql(column: string, r: ValueRange, where: string[], params: unknown[]): void {
  if (r.eq !== undefined) {
    where.push(`${column} = ?`);
    params.push(r.eq);
  }
  if (r.in !== undefined) {
    where.push(`${column} IN (${r.in.map(() => '?').join(', ')})`);
    params.push(...r.in);
  }
  const bounds: Array<[SearchValue | undefined, string]> = [
    [r.gt, '>'],
    [r.gte, '>='],
    [r.lt, '<'],
    [r.lte, '<='],
  ];
  const types = new Set<string>();
  for (const [v, op] of bounds) {
    if (v === undefined) continue;
    where.push(`${column} ${op} ?`);
    params.push(v);
    types.add(typeof v);
  }
  if (types.has('number')) where.push(`${column} < ''`);
  if (types.has('string')) where.push(`${column} >= ''`, `${column} < X''`);
}
