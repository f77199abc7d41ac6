import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import type { Statement, Transaction } from 'better-sqlite3';
import { ENGINE_UPCASTERS, type JourneyEvent, type RecordedEvent, type Upcasters } from '@journey/domain';
import {
  WrongExpectedRevisionError,
  checkExpectedRevision,
  eventFilterPredicate,
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
import { logSynchronousMode, writeLocked, type SqliteDatabase } from './database';

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
DROP TABLE IF EXISTS streams;
`;

/**
 * Fallback poll for writers in other processes (the CLI, a second engine on the same file). Appends in this process,
 * any thread, wake subscribers at once (worker threads hear of them on a BroadcastChannel named after the file).
 */
const POLL_MS = 250;

/** Share of the log above which a type filter is read in position order rather than seeked per type (see `readAllSync`). */
const DENSE_TYPES = 0.3;
/** More types than this are always read in position order (one index seek each would not pay). */
const MAX_SEEKED_TYPES = 32;
/** Streams whose last revision is kept in memory (the others are looked up in the index on their next append). */
const REVISION_CACHE_SIZE = 100_000;
/** How many of the events this store committed last are kept in memory for its live subscribers. */
const TAIL_SIZE = 4_096;
/** How long a subscriber waits for another thread to tell that events are durable before it syncs the WAL itself. */
const ANNOUNCE_WAIT_MS = 25;
/** Prepared statements kept for reads (by SQL text: filters differ in their number of parameters). */
const STATEMENT_CACHE_SIZE = 64;

interface Pending {
  requests: AppendRequest[];
  /** Answered once committed, before the WAL's fdatasync (see EventStore.appendMany). */
  derived: boolean;
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: unknown };

/** An event this store committed, as written; parsed on its first read (once, for all subscribers). */
interface TailEntry {
  position: number;
  id: string;
  streamId: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  recorded?: RecordedEvent;
}

/**
 * The embedded event store. Global position = the events table's rowid: SQLite serialises writers and readers only
 * see committed transactions, so positions are gap-free for readers and no reader overtakes an uncommitted writer.
 *
 * Appends that arrive in the same event-loop turn are committed together in one transaction (group commit), each
 * request in its own savepoint so one request's conflict does not fail the others. Every promise resolves only after
 * the commit that made its events durable. With the log's durability FULL (the default), that includes an fdatasync of
 * the WAL file: every commit on the connection runs at synchronous=NORMAL (no fsync while the file's write lock is
 * held), then the store fdatasyncs the WAL on libuv's thread pool and answers when it is done. That is what
 * synchronous=FULL does in WAL mode (the WAL is synced at each commit), without blocking the event loop or the other
 * writers while the disk flushes. Subscribers are handed events only once they are durable: this store's own commits
 * after their fdatasync; other writers' (the other thread, another process) after one of this store's own (except for
 * subscribers that derive only into this log, see SubscribeOptions.derivesIntoLog), so nothing derived from the log
 * outside it (read models, Kafka, sends) can ever get ahead of it after a power loss.
 *
 * The append path is one INSERT per event: the UNIQUE(id) constraint skips an event already stored (idempotency
 * without a lookup), and the streams' last revisions are kept in memory. Other writers of the file (another thread or
 * process, another store on this connection) are caught up with under the write lock: when the log's head is past the
 * last position this store knows, the events in between are read and remembered too (or, when there are many, the
 * memory is dropped), so it never disagrees with the file. A failed commit drops it as well.
 *
 * Live subscribers read the events of the log's tail from memory, parsed once for all of them: the events a
 * subscription hands out are frozen (shared between subscribers; events are immutable anyway).
 */
export class SqliteEventStore implements EventStore {
  readonly engine = 'sqlite' as const;
  private readonly appended = new EventEmitter();
  private readonly stmts;
  private readonly statements = new Map<string, Statement<unknown[], EventRow>>();
  /** Per type filter: the share of the log its types made up on the last full page read (chooses the plan of `readAllSync`). */
  private readonly typeDensity = new Map<string, number>();
  private readonly commitBatch: Transaction<(batch: Pending[]) => Outcome[]>;
  private readonly appendRequests: Transaction<(requests: AppendRequest[]) => AppendResult[]>;
  /** Last revision per stream, as committed. */
  private readonly revisions = new Map<string, number>();
  /** What the transaction in progress wrote: in the current request's savepoint, and in the requests done so far. */
  private request = { revisions: new Map<string, number>(), events: [] as TailEntry[] };
  private batch = { revisions: new Map<string, number>(), events: [] as TailEntry[] };
  /** The events this store committed last, in position order, without gaps. */
  private tail: TailEntry[] = [];
  /** The log's head as this store last knew it (-1: unknown); its memory (revisions, tail) is complete up to it. */
  private head = -1;
  /** Tells the stores of other threads on the same file that events were committed. */
  private readonly channel?: BroadcastChannel;
  /** The WAL file, fdatasynced after each commit of events when the log's durability is FULL. */
  private readonly wal?: { path: string; fd?: number };
  /** This store's commits whose fdatasync has not completed yet, oldest first: hidden from its live subscribers. */
  private unsynced: Array<{ first: number; last: number }> = [];
  /** Every event up to this position is known to be durable (an fdatasync of the WAL began after its commit). */
  private durableUpTo = 0;
  private pending: Pending[] = [];
  /** Flushes under way (committing, or waiting for their fdatasync): close() waits for them. */
  private readonly flushing = new Set<Promise<void>>();
  private flushScheduled = false;
  private closed = false;

  private readonly upcasters: Upcasters;

  /**
   * `options.fdatasync`: how the WAL is synced (default fs.fdatasync; tests simulate a slow disk with it);
   * `options.upcasters`: what brings old events to their current schema on read (default the engine's).
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly options: { fdatasync?: typeof fs.fdatasync; upcasters?: Upcasters } = {},
  ) {
    this.upcasters = options.upcasters ?? ENGINE_UPCASTERS;
    db.exec(SCHEMA);
    this.appended.setMaxListeners(0);
    this.stmts = {
      exists: db.prepare<[string], { position: number }>('SELECT position FROM events WHERE id = ?'),
      lastOfStream: db.prepare<[string], { position: number; revision: number }>('SELECT position, revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO events (id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING'),
      head: db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
      after: db.prepare<[number], EventRow>('SELECT * FROM events WHERE position > ? ORDER BY position'),
    };
    this.appendRequests = db.transaction((requests: AppendRequest[]) => requests.map((r) => this.appendOne(r)));
    this.commitBatch = db.transaction((batch: Pending[]) => {
      this.catchUpWithOtherWriters();
      return batch.map((item) => this.appendItem(item));
    });
    if (!db.memory && logSynchronousMode(db) === 'FULL') this.wal = { path: `${resolve(db.name)}-wal` };
    if (!db.memory) {
      this.channel = new BroadcastChannel(`journey-sqlite:${resolve(db.name)}`);
      // Another thread's store committed events and made them durable up to the position it tells.
      this.channel.onmessage = (message: { data: unknown }) => {
        this.durableUpTo = Math.max(this.durableUpTo, Number(message.data));
        this.appended.emit('appended');
      };
      this.channel.unref();
    }
  }

  appendToStream(streamId: string, events: JourneyEvent[], options: { expectedRevision?: ExpectedRevision } = {}): Promise<AppendResult> {
    return this.appendMany([{ streamId, events, expectedRevision: options.expectedRevision }]).then(([r]) => r);
  }

  appendMany(requests: AppendRequest[], options: { derived?: boolean } = {}): Promise<AppendResult[]> {
    if (this.closed) return Promise.reject(new Error('event store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ requests, derived: options.derived === true, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => {
          const flush = this.flush();
          this.flushing.add(flush);
          void flush.finally(() => this.flushing.delete(flush));
        });
      }
    });
  }

  /** Commits what is pending, under the process-wide write lock (appends that arrive while it waits join the batch). */
  private async flush(): Promise<void> {
    let batch: Pending[] = [];
    let outcomes: Outcome[] | undefined;
    try {
      outcomes = await writeLocked(this.db, () => {
        this.flushScheduled = false;
        batch = this.pending;
        this.pending = [];
        if (batch.length === 0 || !this.db.open) return undefined;
        this.batch = { revisions: new Map(), events: [] };
        return this.commitBatch.immediate(batch);
      });
    } catch (error) {
      this.forget();
      for (const item of batch) item.reject(error);
      return;
    }
    if (!outcomes) {
      for (const item of batch) item.reject(new Error('event store is closed'));
      return;
    }
    this.remember();
    const settle = (item: Pending, i: number) => {
      const o = outcomes![i];
      if (o.ok) item.resolve(o.results);
      else item.reject(o.error);
    };
    batch.forEach((item, i) => item.derived && settle(item, i));
    const written = this.batch.events;
    if (this.wal && written.length > 0) {
      const range = { first: written[0].position, last: written[written.length - 1].position };
      this.unsynced.push(range);
      const committed = this.head; // everything this store knows committed, its own batch included
      try {
        await this.syncWal();
        this.durableUpTo = Math.max(this.durableUpTo, committed);
      } catch (error) {
        // Committed but maybe not on disk: the callers get the error (a retry is idempotent), and nothing stays hidden.
        const failure = new Error(`fdatasync of ${this.wal.path} failed after a commit: ${(error as Error).message}`);
        for (const item of batch) if (!item.derived) item.reject(failure);
        return;
      } finally {
        this.unsynced = this.unsynced.filter((r) => r.last > range.last); // one fdatasync covers every earlier commit
      }
    }
    batch.forEach((item, i) => item.derived || settle(item, i));
    this.appended.emit('appended');
    if (written.length > 0) this.channel?.postMessage(written[written.length - 1].position);
  }

  /**
   * With durability FULL: resolves once the events up to `position` are durable. The other threads' stores tell when
   * theirs are (after their own fdatasync); for what they have not told within ANNOUNCE_WAIT_MS (another process's
   * events, say), one fdatasync of this store covers everything committed before it.
   */
  private async ensureDurable(position: bigint): Promise<void> {
    if (!this.wal || Number(position) <= this.durableUpTo) return;
    // Every announcement (and every fdatasync of this store) emits 'appended' after moving durableUpTo: wait for those.
    const deadline = Date.now() + ANNOUNCE_WAIT_MS;
    for (let left = ANNOUNCE_WAIT_MS; Number(position) > this.durableUpTo && left > 0 && !this.closed; left = deadline - Date.now()) {
      await new Promise<void>((done) => {
        const wake = () => {
          clearTimeout(timer);
          this.appended.off('appended', wake);
          done();
        };
        const timer = setTimeout(wake, left);
        this.appended.on('appended', wake);
      });
    }
    if (Number(position) <= this.durableUpTo) return;
    const committed = this.stmts.head.get()?.position ?? 0;
    await this.syncWal();
    this.durableUpTo = Math.max(this.durableUpTo, committed);
  }

  private async syncWal(): Promise<void> {
    const wal = this.wal!;
    if (wal.fd !== undefined && fs.fstatSync(wal.fd).nlink === 0) {
      fs.closeSync(wal.fd); // SQLite removed the WAL (every connection closed it meanwhile): sync the new one
      wal.fd = undefined;
    }
    wal.fd ??= fs.openSync(wal.path, 'r+');
    const fd = wal.fd;
    const fdatasync = this.options.fdatasync ?? fs.fdatasync;
    await new Promise<void>((done, fail) => fdatasync(fd, (error) => (error ? fail(error) : done())));
  }

  /** The last position this store's live subscribers may read (its own commits not yet durable are beyond it). */
  private get visibleUpTo(): number {
    return this.unsynced.length > 0 ? this.unsynced[0].first - 1 : Number.MAX_SAFE_INTEGER;
  }

  /** Under the write lock, before appending: remember what other writers appended since this store's last commit. */
  private catchUpWithOtherWriters(): void {
    const head = this.stmts.head.get()?.position ?? 0;
    if (head === this.head) return;
    if (this.head < 0 || head - this.head > TAIL_SIZE) this.forget();
    else for (const row of this.stmts.after.all(this.head)) this.remember1(toTailEntry(row));
    this.head = head;
  }

  /** One caller's requests, in a savepoint: all or nothing. */
  private appendItem(item: Pending): Outcome {
    this.request = { revisions: new Map(), events: [] };
    try {
      const results = this.appendRequests(item.requests);
      for (const [stream, revision] of this.request.revisions) this.batch.revisions.set(stream, revision);
      for (const entry of this.request.events) this.batch.events.push(entry);
      return { ok: true, results };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) this.forget(); // e.g. a constraint: do not trust the memory
      return { ok: false, error };
    }
  }

  /** After a commit: the batch's events become what this store knows of the file (gap-free: see catchUpWithOtherWriters). */
  private remember(): void {
    for (const entry of this.batch.events) this.remember1(entry);
    if (this.batch.events.length > 0) this.head = this.batch.events[this.batch.events.length - 1].position;
  }

  private remember1(entry: TailEntry): void {
    if (this.revisions.size >= REVISION_CACHE_SIZE && !this.revisions.has(entry.streamId)) this.revisions.delete(this.revisions.keys().next().value as string);
    this.revisions.set(entry.streamId, entry.revision);
    this.tail.push(entry);
    if (this.tail.length > 2 * TAIL_SIZE) this.tail = this.tail.slice(-TAIL_SIZE);
  }

  private forget(): void {
    this.revisions.clear();
    this.tail = [];
    this.head = -1;
  }

  private currentRevision(streamId: string): number {
    const known = this.request.revisions.get(streamId) ?? this.batch.revisions.get(streamId) ?? this.revisions.get(streamId);
    return known ?? this.stmts.lastOfStream.get(streamId)?.revision ?? -1;
  }

  /** Runs inside the request's savepoint. */
  private appendOne({ streamId, events, expectedRevision = 'any' }: AppendRequest): AppendResult {
    if (!streamId) throw new Error('streamId is required');
    const current = this.currentRevision(streamId);
    // The expected revision applies only if something is new: resending an append that succeeded is not a conflict.
    if (expectedRevision !== 'any' && events.some((e) => e.id && this.stmts.exists.get(e.id) === undefined)) checkExpectedRevision(streamId, expectedRevision, BigInt(current));
    let revision = current;
    let position = 0;
    for (const e of events) {
      if (!e.id) continue;
      const data = JSON.stringify(e.data);
      const metadata = JSON.stringify(e.metadata);
      const info = this.stmts.insert.run(e.id, streamId, revision + 1, e.type, data, metadata);
      if (info.changes === 0) continue; // already stored
      revision += 1;
      position = Number(info.lastInsertRowid);
      this.request.events.push({ position, id: e.id, streamId, revision, type: e.type, data, metadata });
    }
    const written = revision - current;
    if (written === 0) return { streamId, nextExpectedRevision: BigInt(current), position: BigInt(this.stmts.lastOfStream.get(streamId)?.position ?? 0), written };
    this.request.revisions.set(streamId, revision);
    return { streamId, nextExpectedRevision: BigInt(revision), position: BigInt(position), written };
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
    return this.statement(sql).all(...params).map((row) => toRecorded(row, this.upcasters));
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    return this.readAllSync(options);
  }

  /**
   * A page of the log. With a type filter the plan follows how dense the types are in the log, as the last full page
   * of the same filter found them: sparse types (timers, messages) are seeked in the (type, position) index, one seek
   * per type merged by position, so a catch-up never scans the events it skips; dense ones (most of the log) are
   * read in position order, skipping the others. (`type IN (...)` on the index would sort every later matching event
   * for each page: quadratic over a catch-up.)
   */
  private readAllSync({ after = 0n, maxCount = 1000, filter }: ReadAllOptions, upTo = Number.MAX_SAFE_INTEGER): RecordedEvent[] {
    const prefix = prefixClause(filter);
    const types = filter?.eventTypes?.length ? filter.eventTypes : undefined;
    const key = types && JSON.stringify(types);
    let rows: EventRow[];
    if (types && types.length <= MAX_SEEKED_TYPES && !((this.typeDensity.get(key!) ?? 0) >= DENSE_TYPES)) {
      const seek = `SELECT position FROM (SELECT position FROM events WHERE type = ? AND position > ? AND position <= ?${prefix.clause} ORDER BY position LIMIT ?)`;
      const sql = `SELECT * FROM events WHERE position IN (SELECT position FROM (${types.map(() => seek).join(' UNION ALL ')}) ORDER BY position LIMIT ?) ORDER BY position`;
      rows = this.statement(sql).all(...types.flatMap((t) => [t, after, upTo, ...prefix.params, maxCount]), maxCount);
    } else {
      const typeClause = types ? ` AND +type IN (${types.map(() => '?').join(',')})` : '';
      rows = this.statement(`SELECT * FROM events WHERE position > ? AND position <= ?${typeClause}${prefix.clause} ORDER BY position LIMIT ?`).all(after, upTo, ...(types ?? []), ...prefix.params, maxCount);
    }
    if (key && rows.length === maxCount) {
      if (this.typeDensity.size >= STATEMENT_CACHE_SIZE) this.typeDensity.clear();
      this.typeDensity.set(key, rows.length / (Number(rows[rows.length - 1].position) - Number(after)));
    }
    return rows.map((row) => toRecorded(row, this.upcasters));
  }

  /**
   * A live subscriber's read, from the events this store committed last when `after` is among them: up to `maxCount`
   * events that pass the filter, and the position read up to (past events the filter skips). Undefined otherwise.
   */
  private readTail(after: bigint, maxCount: number, matches: (e: TailEntry) => boolean, upTo: number): { events: RecordedEvent[]; last: bigint } | undefined {
    const tail = this.tail;
    if (tail.length === 0) return undefined;
    const first = tail[0].position;
    const start = Number(after) - first + 1;
    const end = Math.min(tail.length, upTo - first + 1);
    if (start < 0 || start >= end) return undefined;
    const events: RecordedEvent[] = [];
    let i = start;
    for (; i < end && events.length < maxCount; i++) if (matches(tail[i])) events.push(recordedOf(tail[i], this.upcasters));
    return { events, last: BigInt(tail[i - 1].position) };
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
    const matches = eventFilterPredicate(options.filter);
    const run = async () => {
      let after = options.after ?? 0n;
      try {
        while (!stopped && !this.closed) {
          const upTo = this.visibleUpTo;
          const fromMemory = this.readTail(after, batchSize, matches, upTo);
          const events = fromMemory ? fromMemory.events : this.readAllSync({ after, maxCount: batchSize, filter: options.filter }, upTo);
          if (events.length > 0) {
            if (!options.derivesIntoLog) await this.ensureDurable(events[events.length - 1].position);
            await handler(events);
            after = events[events.length - 1].position;
            continue;
          }
          if (fromMemory && fromMemory.last > after) {
            after = fromMemory.last; // a run of events the filter skips
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
    this.stmts.head.get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.length > 0) await this.flush();
    await Promise.all(this.flushing);
    this.closed = true;
    this.channel?.close();
    if (this.wal?.fd !== undefined) fs.closeSync(this.wal.fd);
    this.appended.emit('appended');
  }

  private statement(sql: string): Statement<unknown[], EventRow> {
    let s = this.statements.get(sql);
    if (!s) {
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.clear();
      s = this.db.prepare<unknown[], EventRow>(sql);
      this.statements.set(sql, s);
    }
    return s;
  }
}

function prefixClause(filter?: EventFilter): { clause: string; params: string[] } {
  if (!filter?.streamPrefixes?.length) return { clause: '', params: [] };
  // A prefix as a range (prefix <= stream_id < the prefix with its last character incremented): no substring per row.
  const ranges = filter.streamPrefixes.map((p) => {
    const last = p.charCodeAt(p.length - 1);
    if (p === '' || last >= 0xd7ff) return { sql: 'substr(stream_id, 1, ?) = ?', params: [String(p.length), p] };
    return { sql: '(stream_id >= ? AND stream_id < ?)', params: [p, p.slice(0, -1) + String.fromCharCode(last + 1)] };
  });
  return { clause: ` AND (${ranges.map((r) => r.sql).join(' OR ')})`, params: ranges.flatMap((r) => r.params) };
}

function toRecorded(row: EventRow, upcasters: Upcasters): RecordedEvent {
  return upcasters.upcast({
    id: row.id,
    type: row.type,
    data: JSON.parse(row.data),
    metadata: JSON.parse(row.metadata),
    streamId: row.stream_id,
    revision: BigInt(row.revision),
    position: BigInt(row.position),
  });
}

function toTailEntry(row: EventRow): TailEntry {
  return { position: Number(row.position), id: row.id, streamId: row.stream_id, revision: Number(row.revision), type: row.type, data: row.data, metadata: row.metadata };
}

function recordedOf(entry: TailEntry, upcasters: Upcasters): RecordedEvent {
  entry.recorded ??= deepFreeze(
    upcasters.upcast({ id: entry.id, type: entry.type, data: JSON.parse(entry.data), metadata: JSON.parse(entry.metadata), streamId: entry.streamId, revision: BigInt(entry.revision), position: BigInt(entry.position) }),
  );
  return entry.recorded;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
