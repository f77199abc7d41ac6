import type { RecordedEvent, Upcasters } from '@journey/domain';
import type { EventFilter } from '../event-store.port';
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
  return upcasters.upcast({ id, type, data: JSON.parse(e.data), metadata: JSON.parse(e.metadata), streamId, revision: BigInt(e.revision), position: BigInt(e.position) });
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
