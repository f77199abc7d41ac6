import type { Transaction } from 'better-sqlite3';
import { WrongExpectedRevisionError, checkExpectedRevision, type AppendRequest, type AppendResult } from '../event-store.port';
import { writeLocked, type SqliteDatabase } from './database';
import { COLUMNS, type StoredEvent } from './events-table';
import type { WalSync } from './durability';

/** How many of the events committed last are kept in memory for live subscribers (subscribe.ts). */
export const TAIL_SIZE = 4_096;

interface Pending {
  requests: AppendRequest[];
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; results: AppendResult[] } | { ok: false; error: unknown };

/**
 * The append side of the SQLite event store. Appends that arrive in the same event-loop turn are committed together
 * in one transaction (group commit), under the file's write lock, each caller's requests in their own savepoint so one
 * request's conflict does not fail the others. Each resolves only once its events are durable (durability.ts).
 *
 * One INSERT per event: the UNIQUE(id) constraint skips an event already stored (idempotency without a lookup). The
 * committed events go to `tail`, the log's last events in position order without gaps: before appending, under the
 * write lock, the events other writers (another thread or process, another store on the connection) appended since
 * go there first (or, when there are many, the tail is dropped).
 */
export class GroupCommit {
  private readonly stmts;
  private readonly commitBatch: Transaction<(batch: Pending[]) => Outcome[]>;
  private readonly appendRequests: Transaction<(requests: AppendRequest[]) => AppendResult[]>;
  /** What the transaction in progress wrote (a failed savepoint's events are cut off). */
  private written: StoredEvent[] = [];
  /** The log's head as the tail knows it (-1: unknown); the tail is complete up to it. */
  private head = -1;
  private pending: Pending[] = [];
  /** Flushes under way (committing, or waiting for their fdatasync): close() waits for them. */
  private readonly flushing = new Set<Promise<void>>();
  private flushScheduled = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly wal: WalSync,
    private readonly tail: StoredEvent[],
    /** Called after each commit, once its events are durable (`last`: the position of the last one written). */
    private readonly committed: (last?: number) => void,
  ) {
    this.stmts = {
      exists: db.prepare<[string], { position: number }>('SELECT position FROM events WHERE id = ?'),
      lastOfStream: db.prepare<[string], { position: number; revision: number }>('SELECT position, revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1'),
      insert: db.prepare('INSERT INTO events (id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING'),
      head: db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
      after: db.prepare<[number], StoredEvent>(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position`),
    };
    this.appendRequests = db.transaction((requests: AppendRequest[]) => requests.map((r) => this.appendOne(r)));
    this.commitBatch = db.transaction((batch: Pending[]) => {
      this.catchUpWithOtherWriters();
      return batch.map((item) => this.appendItem(item));
    });
  }

  append(requests: AppendRequest[]): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ requests, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => {
        const flush = this.flush();
        this.flushing.add(flush);
        void flush.finally(() => this.flushing.delete(flush));
      });
    });
  }

  /** Resolves when every append made so far is settled. */
  async drain(): Promise<void> {
    if (this.pending.length > 0) await this.flush();
    await Promise.all(this.flushing);
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
        this.written = [];
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
    const written = this.written;
    for (const entry of written) this.remember(entry);
    const last = written.at(-1)?.position;
    if (last !== undefined) {
      this.head = last;
      try {
        await this.wal.afterCommit(written[0].position, last);
      } catch (error) {
        for (const item of batch) item.reject(error);
        return;
      }
    }
    batch.forEach((item, i) => {
      const o = outcomes[i];
      if (o.ok) item.resolve(o.results);
      else item.reject(o.error);
    });
    this.committed(last);
  }

  /** Under the write lock, before appending: the tail takes in what other writers appended since this store's last commit. */
  private catchUpWithOtherWriters(): void {
    const head = this.stmts.head.get()?.position ?? 0;
    if (head === this.head) return;
    if (this.head < 0 || head - this.head > TAIL_SIZE) this.forget();
    else for (const row of this.stmts.after.all(this.head)) this.remember(row);
    this.head = head;
  }

  /** One caller's requests, in a savepoint: all or nothing. */
  private appendItem(item: Pending): Outcome {
    const before = this.written.length;
    try {
      return { ok: true, results: this.appendRequests(item.requests) };
    } catch (error) {
      this.written.length = before;
      if (!(error instanceof WrongExpectedRevisionError)) this.forget(); // e.g. a constraint: do not trust the tail
      return { ok: false, error };
    }
  }

  private remember(entry: StoredEvent): void {
    this.tail.push(entry);
    if (this.tail.length > 2 * TAIL_SIZE) this.tail.splice(0, this.tail.length - TAIL_SIZE);
  }

  private forget(): void {
    this.tail.length = 0;
    this.head = -1;
  }

  /** Runs inside the request's savepoint. */
  private appendOne({ streamId, events, expectedRevision = 'any' }: AppendRequest): AppendResult {
    if (!streamId) throw new Error('streamId is required');
    const last = this.stmts.lastOfStream.get(streamId);
    const current = last?.revision ?? -1;
    // The expected revision applies only if something is new: resending an append that succeeded is not a conflict.
    if (expectedRevision !== 'any' && events.some((e) => e.id && this.stmts.exists.get(e.id) === undefined)) checkExpectedRevision(streamId, expectedRevision, BigInt(current));
    let revision = current;
    let position = last?.position ?? 0;
    for (const e of events) {
      if (!e.id) continue;
      const data = JSON.stringify(e.data);
      const metadata = JSON.stringify(e.metadata);
      const info = this.stmts.insert.run(e.id, streamId, revision + 1, e.type, data, metadata);
      if (info.changes === 0) continue; // already stored
      revision += 1;
      position = Number(info.lastInsertRowid);
      this.written.push({ position, id: e.id, streamId, revision, type: e.type, data, metadata });
    }
    return { streamId, nextExpectedRevision: BigInt(revision), position: BigInt(position), written: revision - current };
  }
}
