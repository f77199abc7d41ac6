import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { WriteLock } from './write-lock';

export type SqliteDatabase = Database.Database;

/**
 * The durability of the event log. `FULL` (default): the WAL is fdatasynced after every commit of events and before
 * the answer (by the event store, off the event loop), so an acknowledged write survives a process crash AND a power
 * loss. `NORMAL`: in WAL mode a commit survives a process crash (kill -9) but the last commits may roll back on power
 * loss.
 */
export type SynchronousMode = 'FULL' | 'NORMAL';

/**
 * SQLite's own `synchronous` on every connection: no fsync while a commit holds the file's lock. The event store adds
 * the log's durability itself (see SynchronousMode). Read models and checkpoints need no more: they are derived from
 * the log and rebuilt or replayed from it. A WAL is one ordered file, so a power loss can only drop its last commits,
 * and the next synced commit makes everything before it durable too; subscribers that derive outside the log are
 * handed only durable events (subscribe.ts), so derived data never runs ahead of the log.
 */
export const DERIVED_SYNCHRONOUS: SynchronousMode = 'NORMAL';

const logModes = new WeakMap<SqliteDatabase, SynchronousMode>();

/**
 * The engine's files in its data directory: the event log (with the checkpoints of reactors, dispatcher and relay),
 * and the read models with their checkpoints (written by the projector alone, so it never waits for the log's writers
 * or makes them wait).
 */
export const SQLITE_FILES = { events: 'journey.db', readModels: 'journey-read-models.db' } as const;

/** The write lock of each file this process opened (write-lock.ts), by absolute path; worker threads adopt them. */
const writeLocks = new Map<string, WriteLock>();
const lockOf = new WeakMap<SqliteDatabase, WriteLock>();

/** The write locks of the files this thread opened, to hand to a worker thread (adoptSharedWriteLocks). */
export function sharedWriteLocks(): Record<string, SharedArrayBuffer> {
  return Object.fromEntries([...writeLocks].map(([path, lock]) => [path, lock.buffer]));
}

/** In a worker thread, before it opens a database: share the write locks of the thread that started it. */
export function adoptSharedWriteLocks(locks: Record<string, SharedArrayBuffer>): void {
  for (const [path, buffer] of Object.entries(locks)) writeLocks.set(path, new WriteLock(buffer));
}

/** Frees every lock the thread `id` holds: for a worker thread terminated in the middle of a write. */
export function releaseWriteLocksHeldBy(id: number): void {
  for (const lock of writeLocks.values()) lock.releaseHeldBy(id);
}

/** Runs a synchronous write (a transaction) on `db` under its file's process-wide write lock. */
export function writeLocked<T>(db: SqliteDatabase, write: () => T): Promise<T> {
  let lock = lockOf.get(db);
  if (!lock) lockOf.set(db, (lock = new WriteLock())); // a connection not opened by openSqliteDatabase
  return lock.run(write);
}

/** The durability asked for the event log of a connection opened by `openSqliteDatabase` (the event store applies it). */
export function logSynchronousMode(db: SqliteDatabase): SynchronousMode | undefined {
  return logModes.get(db);
}

export interface OpenOptions {
  synchronous?: SynchronousMode;
  /**
   * After how many WAL pages a commit on this connection checkpoints the WAL into the database file (default
   * WAL_AUTOCHECKPOINT_PAGES; false: never, someone else does). A checkpoint copies pages and fsyncs the file, blocking
   * the committing thread (tens to hundreds of ms): the engine's main thread leaves it to its worker thread when it has
   * one, and the read models' file, written in the worker, checkpoints small and often so the disk never floods.
   */
  autoCheckpoint?: boolean | number;
  /** SQLite's page cache for this connection, in MB (default 64). Every connection has its own. */
  cacheMb?: number;
}

export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

/**
 * Opens (creating if needed) the engine's SQLite file in WAL mode. One file holds events, read models and checkpoints.
 * `synchronous` is the event log's durability; see DERIVED_SYNCHRONOUS for the rest.
 */
export function openSqliteDatabase(path: string, options: OpenOptions = {}): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  const file = db.memory ? undefined : resolve(path);
  let lock = file ? writeLocks.get(file) : undefined;
  if (!lock) lock = new WriteLock();
  if (file) writeLocks.set(file, lock);
  lockOf.set(db, lock);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${DERIVED_SYNCHRONOUS}`);
  logModes.set(db, options.synchronous ?? 'FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma(`cache_size = -${(options.cacheMb ?? 64) * 1024}`);
  db.pragma('temp_store = MEMORY');
  const { autoCheckpoint = true } = options;
  db.pragma(`wal_autocheckpoint = ${autoCheckpoint === true ? WAL_AUTOCHECKPOINT_PAGES : autoCheckpoint === false ? 0 : autoCheckpoint}`);
  return db;
}

export function synchronousModeFromEnv(value: string | undefined): SynchronousMode {
  const mode = (value ?? 'FULL').toUpperCase();
  if (mode !== 'FULL' && mode !== 'NORMAL') throw new Error(`JOURNEY_SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${value}"`);
  return mode;
}
