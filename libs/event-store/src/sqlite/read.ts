import type { Statement } from 'better-sqlite3';
import type { RecordedEvent, Upcasters } from '@journey/domain';
import type { EventFilter, ReadAllOptions, ReadStreamOptions } from '../event-store.port';
import type { SqliteDatabase } from './database';

/** Global position = the table's rowid: SQLite serialises writers and readers see only committed transactions. */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  stream_id TEXT NOT NULL,
  revision INTEGER NOT NULL,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  metadata TEXT NOT NULL,
  UNIQUE (stream_id, revision)
);
CREATE INDEX IF NOT EXISTS events_type ON events (type, position);
DROP TABLE IF EXISTS streams;
`;

/** The select list every read uses: rows come back as StoredEvents. */
export const COLUMNS = 'position, id, stream_id AS streamId, revision, type, data, metadata';

/** A row of the events table (data and metadata as the JSON text stored); `recorded` is its parsed form, once parsed. */
export interface StoredEvent {
  position: number;
  id: string;
  streamId: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded?: RecordedEvent;
}

export function createEventsTable(db: SqliteDatabase): void {
  db.exec(SCHEMA);
}

export function toRecorded(e: StoredEvent, upcasters: Upcasters): RecordedEvent {
  const { id, type, streamId } = e;
  return upcasters.upcast({
    id,
    type,
    data: JSON.parse(e.data),
    metadata: JSON.parse(e.metadata),
    streamId,
    revision: BigInt(e.revision),
    position: BigInt(e.position),
  });
}

/** The stream prefixes of a filter as a WHERE clause: each prefix a range (prefix <= stream_id < prefix + 1), no substring per row. */
export function prefixClause(filter?: EventFilter): { clause: string; params: string[] } {
  if (!filter?.streamPrefixes?.length) return { clause: '', params: [] };
  const ranges = filter.streamPrefixes.map((p) => {
    const last = p.charCodeAt(p.length - 1);
    if (p === '' || last >= 0xd7ff) return { sql: 'substr(stream_id, 1, ?) = ?', params: [String(p.length), p] };
    return { sql: '(stream_id >= ? AND stream_id < ?)', params: [p, p.slice(0, -1) + String.fromCharCode(last + 1)] };
  });
  return { clause: ` AND (${ranges.map((r) => r.sql).join(' OR ')})`, params: ranges.flatMap((r) => r.params) };
}

/** Share of the log above which a type filter is read in position order rather than seeked per type (see `readAll`). */
const DENSE_TYPES = 0.3;
/** More types than this are always read in position order (one index seek each would not pay). */
const MAX_SEEKED_TYPES = 32;
/** Prepared statements kept (by SQL text: filters differ in their number of parameters), and type filters' densities. */
const STATEMENT_CACHE_SIZE = 64;

/** The read side of the SQLite event store: streams, pages of the log (with their query plan), the head. */
export class EventReader {
  private readonly statements = new Map<string, Statement<unknown[], StoredEvent>>();
  /** Per type filter: the share of the log its types made up on the last full page read (chooses the plan of `readAll`). */
  private readonly typeDensity = new Map<string, number>();
  private readonly head;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly upcasters: Upcasters,
  ) {
    this.head = db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events');
  }

  /** The position of the last committed event (0 when the log is empty). */
  headPosition(): number {
    return this.head.get()?.position ?? 0;
  }

  readStream(streamId: string, { direction, fromRevision, maxCount }: ReadStreamOptions = {}): RecordedEvent[] {
    const backwards = direction === 'backwards';
    const from = fromRevision === undefined ? '' : ` AND revision ${backwards ? '<=' : '>='} ?`;
    const sql = `SELECT ${COLUMNS} FROM events WHERE stream_id = ?${from} ORDER BY revision ${backwards ? 'DESC' : 'ASC'}${maxCount === undefined ? '' : ' LIMIT ?'}`;
    const params = [streamId, fromRevision, maxCount].filter((p) => p !== undefined);
    return this.statement(sql)
      .all(...params)
      .map((row) => toRecorded(row, this.upcasters));
  }

  /**
   * A page of the log, up to position `upTo`. With a type filter the plan follows how dense the types are in the log,
   * as the last full page of the same filter found them: sparse types (timers, messages) are seeked in the (type,
   * position) index, one seek per type merged by position, so a catch-up never scans the events it skips; dense ones
   * (most of the log) are read in position order, skipping the others. (`type IN (...)` on the index would sort every
   * later matching event for each page: quadratic over a catch-up.)
   */
  readAll({ after = 0n, maxCount = 1000, filter }: ReadAllOptions, upTo = Number.MAX_SAFE_INTEGER): RecordedEvent[] {
    const prefix = prefixClause(filter);
    const types = filter?.eventTypes?.length ? filter.eventTypes : undefined;
    const key = types && JSON.stringify(types);
    let sql: string;
    let params: unknown[];
    if (types && types.length <= MAX_SEEKED_TYPES && !((this.typeDensity.get(key!) ?? 0) >= DENSE_TYPES)) {
      const seek = `SELECT position FROM (SELECT position FROM events WHERE type = ? AND position > ? AND position <= ?${prefix.clause} ORDER BY position LIMIT ?)`;
      sql = `SELECT ${COLUMNS} FROM events WHERE position IN (SELECT position FROM (${types.map(() => seek).join(' UNION ALL ')}) ORDER BY position LIMIT ?) ORDER BY position`;
      params = [...types.flatMap((t) => [t, after, upTo, ...prefix.params, maxCount]), maxCount];
    } else {
      const typeClause = types ? ` AND +type IN (${types.map(() => '?').join(',')})` : '';
      sql = `SELECT ${COLUMNS} FROM events WHERE position > ? AND position <= ?${typeClause}${prefix.clause} ORDER BY position LIMIT ?`;
      params = [after, upTo, ...(types ?? []), ...prefix.params, maxCount];
    }
    const rows = this.statement(sql).all(...params);
    if (key && rows.length === maxCount) {
      if (this.typeDensity.size >= STATEMENT_CACHE_SIZE) this.typeDensity.clear();
      this.typeDensity.set(key, rows.length / (rows[rows.length - 1].position - Number(after)));
    }
    return rows.map((row) => toRecorded(row, this.upcasters));
  }

  private statement(sql: string): Statement<unknown[], StoredEvent> {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.clear();
      s = this.db.prepare<unknown[], StoredEvent>(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}
