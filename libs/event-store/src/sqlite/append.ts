import type { Transaction } from 'better-sqlite3';
import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { WrongExpectedRevisionError, checkExpectedRevision, type AppendRequest, type AppendResult } from '../event-store.port';
import { logSynchronousMode, writeLocked, type SqliteDatabase } from './database';
import { COLUMNS, type StoredEvent } from './read';

/** How many of the events committed last are kept in memory for live subscribers (subscribe.ts). */
export const TAIL_SIZE = 4_096;

interface Pending {
  requests: AppendRequest[];
  /** Answered once committed, before the WAL's fdatasync (see EventStore.appendMany). */
  rederivable: boolean;
  resolve: (r: AppendResult[]) => void;
  reject: (e: unknown) => void;
}

/** Settles a caller's promise: once the commit is durable, or once committed when rederivable. */
type Outcome = () => void;

/**
 * The append side of the SQLite event store. Appends that arrive in the same event-loop turn are committed together
 * in one transaction (group commit), under the file's write lock, each caller's requests in their own savepoint so one
 * request's conflict does not fail the others. Each resolves only once its events are durable (WalSync below), except
 * rederivable ones (EventStore.appendMany): once committed.
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
      lastOfStream: db.prepare<[string], { position: number; revision: number }>(
        'SELECT position, revision FROM events WHERE stream_id = ? ORDER BY revision DESC LIMIT 1',
      ),
      insert: db.prepare(
        'INSERT INTO events (id, stream_id, revision, type, data, metadata) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
      ),
      head: db.prepare<[], { position: number | null }>('SELECT MAX(position) AS position FROM events'),
      after: db.prepare<[number], StoredEvent>(`SELECT ${COLUMNS} FROM events WHERE position > ? ORDER BY position`),
    };
    this.appendRequests = db.transaction((requests: AppendRequest[]) => requests.map((r) => this.appendOne(r)));
    this.commitBatch = db.transaction((batch: Pending[]) => {
      this.catchUpWithOtherWriters();
      return batch.map((item) => this.appendItem(item));
    });
  }

  append(requests: AppendRequest[], rederivable: boolean): Promise<AppendResult[]> {
    return new Promise((resolve, reject) => {
      this.pending.push({ requests, rederivable, resolve, reject });
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
    outcomes.forEach((settle, i) => batch[i].rederivable && settle());
    const last = written.at(-1)?.position;
    if (last !== undefined) {
      this.head = last;
      try {
        await this.wal.afterCommit(written[0].position, last);
      } catch (error) {
        for (const item of batch) if (!item.rederivable) item.reject(error);
        return;
      }
    }
    outcomes.forEach((settle, i) => batch[i].rederivable || settle());
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
      const results = this.appendRequests(item.requests);
      return () => item.resolve(results);
    } catch (error) {
      this.written.length = before;
      if (!(error instanceof WrongExpectedRevisionError)) this.forget(); // e.g. a constraint: do not trust the tail
      return () => item.reject(error);
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
    if (expectedRevision !== 'any' && events.some((e) => e.id && this.stmts.exists.get(e.id) === undefined))
      checkExpectedRevision(streamId, expectedRevision, BigInt(current));
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

/**
 * The log's durability FULL (database.ts SynchronousMode): every commit on the connection runs at synchronous=NORMAL
 * (no fsync while the file's write lock is held), then the WAL file is fdatasynced on libuv's thread pool. That is
 * what synchronous=FULL does in WAL mode, without blocking the event loop or the other writers while the disk flushes.
 * A WAL is one ordered file: one fdatasync makes every commit before it durable. Does nothing at durability NORMAL.
 */
export class WalSync {
  private readonly path?: string;
  private fd?: number;
  /** Commits of this store whose fdatasync has not completed yet, oldest first: hidden from its live subscribers. */
  private unsynced: Array<{ first: number; last: number }> = [];
  /** Every event up to this position is known to be durable (an fdatasync of the WAL began after its commit). */
  durableUpTo = Number.POSITIVE_INFINITY;

  constructor(
    db: SqliteDatabase,
    private readonly fdatasync: typeof fs.fdatasync = fs.fdatasync,
  ) {
    if (db.memory || logSynchronousMode(db) !== 'FULL') return;
    this.path = `${resolve(db.name)}-wal`;
    this.durableUpTo = 0;
  }

  /** The last position live subscribers may read: this store's commits not yet durable are beyond it. */
  get visibleUpTo(): number {
    return this.unsynced.length > 0 ? this.unsynced[0].first - 1 : Number.MAX_SAFE_INTEGER;
  }

  /** Another writer made the log durable up to `position` (another thread's store, after its own fdatasync). */
  heard(position: number): void {
    this.durableUpTo = Math.max(this.durableUpTo, position);
  }

  /** After this store committed `first..last` (and knows every event before them committed): resolves once they are durable. */
  async afterCommit(first: number, last: number): Promise<void> {
    if (!this.path) return;
    const range = { first, last };
    this.unsynced.push(range);
    try {
      await this.sync(last);
    } catch (error) {
      // Committed but maybe not on disk: the callers get the error (a retry is idempotent), and nothing stays hidden.
      throw new Error(`fdatasync of ${this.path} failed after a commit: ${(error as Error).message}`, { cause: error });
    } finally {
      this.unsynced = this.unsynced.filter((r) => r.last > range.last); // one fdatasync covers every earlier commit
    }
  }

  /** fdatasyncs the WAL: every event up to `committed` (committed before the call) is durable after it. */
  async sync(committed: number): Promise<void> {
    if (this.fd !== undefined && fs.fstatSync(this.fd).nlink === 0) {
      fs.closeSync(this.fd); // SQLite removed the WAL (every connection closed it meanwhile): sync the new one
      this.fd = undefined;
    }
    const fd = (this.fd ??= fs.openSync(this.path!, 'r+'));
    await new Promise<void>((done, fail) => this.fdatasync(fd, (error) => (error ? fail(error) : done())));
    this.heard(committed);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
  }
}
