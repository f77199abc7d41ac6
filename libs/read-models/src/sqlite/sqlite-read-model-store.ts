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
 *   rm_<collection>__rebuild  the same, filled by a rebuild, then renamed over rm_<collection>.
 *   checkpoints (name, position)  shared with the other subscribers: "<projection>" for the live model,
 *       "<projection>#rebuild" while a rebuild runs. Written in the same transaction as the documents.
 * Write transactions are IMMEDIATE: other processes may write the same file (reactors in processes of their own), and a
 * deferred transaction that read first fails with SQLITE_BUSY instead of waiting when it then needs to write.
 */
import type { Statement } from 'better-sqlite3';
import { canonicalJson, type RecordedEvent } from '@journey/domain';
import { SqliteCheckpointStore, writeLocked, type SqliteDatabase } from '@journey/event-store';
import { docKey, type CollectionSpec, type Projection, type StoredDoc } from '../projection';
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
}

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
            this.createTable(c, 'live');
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
    for (const ref of projection.reads(fresh)) {
      const doc = this.getSync(ref.collection, ref.id, target);
      if (doc) loaded.set(docKey(ref), doc);
    }
    for (const put of projection.apply(fresh, (ref) => loaded.get(docKey(ref)))) {
      this.tableStatements(put.collection, target).put.run(put.id, put.pos, JSON.stringify(put.doc));
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
            this.db.exec(`DROP TABLE IF EXISTS ${table(c.name, 'rebuild')}`);
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
        report.differences[c.name] = this.differences(a, b);
        this.db.exec(`DROP TABLE ${a}; ALTER TABLE ${b} RENAME TO ${a};`);
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
  private tableStatements(collection: string, target: ReadModelTarget): TableStatements {
    const key = `${collection}/${target}`;
    let s = this.statements.get(key);
    if (!s) {
      const t = table(collection, target);
      s = {
        get: this.db.prepare(`SELECT id, pos, doc FROM ${t} WHERE id = ?`),
        put: this.db.prepare(
          `INSERT INTO ${t} (id, pos, doc) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET pos = excluded.pos, doc = excluded.doc WHERE pos < excluded.pos`,
        ),
      };
      this.statements.set(key, s);
    }
    return s;
  }

  /** Documents that differ between two tables: missing on one side, another `pos`, or other content (key order aside). */
  private differences(a: string, b: string): number {
    const rows = this.db
      .prepare<[], { l: string | null; r: string | null; lpos: number | null; rpos: number | null }>(
        `SELECT ${a}.doc AS l, ${b}.doc AS r, ${a}.pos AS lpos, ${b}.pos AS rpos FROM ${a} FULL OUTER JOIN ${b} ON ${a}.id = ${b}.id
         WHERE ${a}.id IS NULL OR ${b}.id IS NULL OR ${a}.pos != ${b}.pos OR ${a}.doc != ${b}.doc`,
      )
      .all();
    return rows.filter(
      (row) =>
        row.l === null || row.r === null || row.lpos !== row.rpos || canonicalJson(JSON.parse(row.l)) !== canonicalJson(JSON.parse(row.r)),
    ).length;
  }

  private createTable(c: CollectionSpec, target: ReadModelTarget): void {
    this.db.exec(
      `CREATE TABLE IF NOT EXISTS ${table(c.name, target)} (id TEXT PRIMARY KEY, pos INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID`,
    );
  }

  private createIndexes(c: CollectionSpec): void {
    for (const fields of c.indexes) {
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${table(c.name)}_${fields.join('_')} ON ${table(c.name)} (${fields.map(field).join(', ')})`);
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
