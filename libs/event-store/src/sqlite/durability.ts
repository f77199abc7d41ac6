import * as fs from 'node:fs';
import { resolve } from 'node:path';
import { logSynchronousMode, type SqliteDatabase } from './database';

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
  durableUpTo = 0;

  constructor(
    db: SqliteDatabase,
    private readonly fdatasync: typeof fs.fdatasync = fs.fdatasync,
  ) {
    if (!db.memory && logSynchronousMode(db) === 'FULL') this.path = `${resolve(db.name)}-wal`;
  }

  get enabled(): boolean {
    return this.path !== undefined;
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
      throw new Error(`fdatasync of ${this.path} failed after a commit: ${(error as Error).message}`);
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
