import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * The durability of the event log. `FULL` (default): every commit of events is fsynced before the answer, so an
 * acknowledged write survives a process crash AND a power loss. `NORMAL`: in WAL mode a commit survives a process
 * crash (kill -9) but the last commits may roll back on power loss.
 */
export type SynchronousMode = 'FULL' | 'NORMAL';

/**
 * The durability of every other write on the connection: read models and checkpoints, derived from the log and
 * rebuilt or replayed from it. Safe because the WAL is one ordered file: a power loss can only drop its last commits,
 * and the next FULL commit of events makes everything before it durable too, so derived data never runs ahead of the
 * log it was derived from: a power loss leaves the state of a crash a moment earlier, which every reader of the log
 * already survives (it resumes from its last checkpoint; reactor effects have deterministic ids).
 */
export const DERIVED_SYNCHRONOUS: SynchronousMode = 'NORMAL';

const logModes = new WeakMap<SqliteDatabase, SynchronousMode>();

/** The durability asked for the event log of a connection opened by `openSqliteDatabase` (the event store applies it). */
export function logSynchronousMode(db: SqliteDatabase): SynchronousMode | undefined {
  return logModes.get(db);
}

export interface OpenOptions {
  synchronous?: SynchronousMode;
}

/**
 * Opens (creating if needed) the engine's SQLite file in WAL mode. One file holds events, read models and checkpoints.
 * `synchronous` is the event log's durability; see DERIVED_SYNCHRONOUS for the rest.
 */
export function openSqliteDatabase(path: string, options: OpenOptions = {}): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${DERIVED_SYNCHRONOUS}`);
  logModes.set(db, options.synchronous ?? 'FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -65536');
  db.pragma('temp_store = MEMORY');
  db.pragma('wal_autocheckpoint = 10000');
  return db;
}

export function synchronousModeFromEnv(value: string | undefined): SynchronousMode {
  const mode = (value ?? 'FULL').toUpperCase();
  if (mode !== 'FULL' && mode !== 'NORMAL') throw new Error(`JOURNEY_SQLITE_SYNCHRONOUS must be FULL or NORMAL, got "${value}"`);
  return mode;
}
