import { EventEmitter } from 'node:events';
import { upcast, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import {
  WrongExpectedRevisionError,
  type AppendRequest,
  type AppendResult,
  type BatchHandler,
  type EventFilter,
  type EventStore,
  type ExpectedRevision,
  type ReadAllOptions,
  type ReadStreamOptions,
  type SubscribeOptions,
  type SubscriptionHandle,
} from '../event-store.port';
import type { SqliteDatabase } from './database';

interface EventRow {
  position: number | bigint;
  id: string;
  stream_id: string;
  revision: number | bigint;
  type: string;
  data: string;
  metadata: string;
}

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
CREATE TABLE IF NOT EXISTS streams (stream_id TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;
`;

/** Fallback poll for writers in other processes (the CLI, a second engine on the same file); in-process appends wake subscribers at once. */
const POLL_MS = 250;

/**
 * The embedded event store. Global position = the events table's rowid: SQLite serialises writers and readers only
 * see committed transactions, so positions are gap-free for readers and no reader overtakes an uncommitted writer.
 *
 * Appends that arrive in the same event-loop turn are committed together in one transaction (group commit), each
 * request in its own savepoint so one request's conflict does not fail the others. Every promise resolves only after
 * the commit (and, with synchronous=FULL, the fsync) that made its events durable.
 */
export class SqliteEventStore implements EventStore {
  readonly engine = 'sqlite' as const;
  private readonly appended = new EventEmitter();
  private readonly stmts;
  private pending: Array<{ requests: AppendRequest[]; resolve: (r: AppendResult[]) => void; reject: (e: unknown) => void }> = [];
  private flushScheduled = false;
  private closed = false;

  constructor(private readonly db: SqliteDatabase) {
    db.exec(SCHEMA);
    this.appended.setMaxListeners(0);
    this.stmts = {
      exists: db.prepare<[string], { position: number }>('SELECT position FROM events WHERE id = ?'),
      streamRevision: db.prepare<[string], { revision: number }>('SELECT revision FROM streams WHERE stream_id = ?'),
      upsertStream: db.prepare('INSERT INTO streams (stream_id, revision) VALUES (?, ?) ON CONFLICT(stream_id) DO UPDATE SET revision = excluded.revision'),
      insert: db.prepare('INSERT INTO events (id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?)'),
      lastPositionOfStream: db.prepare<[string], { position: number }>('SELECT position FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      head: db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
    };
  }

  appendToStream(streamId: string, events: JourneyEvent[], options: { expectedRevision?: ExpectedRevision } = {}): Promise<AppendResult> {
    return this.appendMany([{ streamId, events, expectedRevision: options.expectedRevision }]).then(([r]) => r);
  }

  appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ requests, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; results: AppendResult[] } | { ok: false; error: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            outcomes.push({ ok: true, results: this.db.transaction(() => item.requests.map((r) => this.appendOne(r)))() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    batch.forEach((item, i) => {
      const o = outcomes[i];
      if (o.ok) item.resolve(o.results);
      else item.reject(o.error);
    });
    this.appended.emit('appended');
  }

  /** Runs inside a transaction. */
  private appendOne({ streamId, events, expectedRevision = 'any' }: AppendRequest): AppendResult {
    if (!streamId) throw new Error('streamId is required');
    const current = BigInt(this.stmts.streamRevision.get(streamId)?.revision ?? -1);
    const seen = new Set<string>();
    const fresh = events.filter((e) => {
      if (!e.id || seen.has(e.id)) return false;
      seen.add(e.id);
      return this.stmts.exists.get(e.id) === undefined;
    });
    if (fresh.length === 0) {
      const last = this.stmts.lastPositionOfStream.get(streamId);
      return { streamId, nextExpectedRevision: current, position: BigInt(last?.position ?? 0), written: 0 };
    }
    checkExpected(streamId, expectedRevision, current);
    let revision = current;
    let position = 0n;
    for (const e of fresh) {
      revision += 1n;
      const info = this.stmts.insert.run(e.id, streamId, revision, e.type, JSON.stringify(e.data), JSON.stringify(e.metadata));
      position = BigInt(info.lastInsertRowid);
    }
    this.stmts.upsertStream.run(streamId, revision);
    return { streamId, nextExpectedRevision: revision, position, written: fresh.length };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const backwards = options.direction === 'backwards';
    const params: unknown[] = [streamId];
    let sql = 'SELECT * FROM events WHERE stream_id = ?';
    if (options.fromRevision !== undefined) {
      sql += backwards ? ' AND revision <= ?' : ' AND revision >= ?';
      params.push(options.fromRevision);
    }
    sql += ` ORDER BY revision ${backwards ? 'DESC' : 'ASC'}`;
    if (options.maxCount !== undefined) {
      sql += ' LIMIT ?';
      params.push(options.maxCount);
    }
    return this.db.prepare<unknown[], EventRow>(sql).all(...params).map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllSync(options);
  }

  private readAllSync({ after = 0n, maxCount = 1000, filter }: ReadAllOptions): RecordedEvent[] {
    const { clause, params } = filterClause(filter);
    return this.db
      .prepare<unknown[], EventRow>(`SELECT * FROM events WHERE position > ?${clause} ORDER BY position LIMIT ?`)
      .all(after, ...params, maxCount)
      .map(toRecorded);
  }

  async headPosition(): Promise<bigint> {
    return BigInt(this.stmts.head.get()?.position ?? 0);
  }

  subscribeToAll(options: SubscribeOptions, handler: BatchHandler): SubscriptionHandle {
    let stopped = false;
    let wake: (() => void) | undefined;
    const onAppend = () => wake?.();
    this.appended.on('appended', onAppend);
    const batchSize = options.batchSize ?? 500;
    const run = async () => {
      let after = options.after ?? 0n;
      try {
        while (!stopped && !this.closed) {
          const events = this.readAllSync({ after, maxCount: batchSize, filter: options.filter });
          if (events.length > 0) {
            await handler(events);
            after = events[events.length - 1].position;
            // A filtered read may skip a long run of other events: move past them so the next read starts there.
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, POLL_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      } finally {
        this.appended.off('appended', onAppend);
      }
    };
    const done = run();
    return {
      done,
      stop: async () => {
        stopped = true;
        wake?.();
        await done.catch(() => undefined);
      },
    };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) this.flush();
    this.closed = true;
    this.appended.emit('appended');
  }
}

function checkExpected(streamId: string, expected: ExpectedRevision, current: bigint): void {
  const ok =
    expected === 'any' ||
    (expected === 'no_stream' && current === -1n) ||
    (expected === 'stream_exists' && current >= 0n) ||
    (typeof expected === 'bigint' && expected === current);
  if (!ok) throw new WrongExpectedRevisionError(streamId, expected, current);
}

function filterClause(filter?: EventFilter): { clause: string; params: string[] } {
  let clause = '';
  const params: string[] = [];
  if (filter?.eventTypes?.length) {
    clause += ` AND type IN (${filter.eventTypes.map(() => '?').join(',')})`;
    params.push(...filter.eventTypes);
  }
  if (filter?.streamPrefixes?.length) {
    clause += ` AND (${filter.streamPrefixes.map(() => "substr(stream_id, 1, ?) = ?").join(' OR ')})`;
    for (const p of filter.streamPrefixes) params.push(String(p.length), p);
  }
  return { clause, params };
}

function toRecorded(row: EventRow): RecordedEvent {
  return upcast({
    id: row.id,
    type: row.type,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
  });
}
