import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * `FULL` (default): every commit is fsynced before the answer, so an acknowledged write survives a process crash AND
 * a power loss. `NORMAL`: in WAL mode a commit survives a process crash (kill -9) but the last commits may roll back
 * on power loss.
 */
export type SynchronousMode = 'FULL' | 'NORMAL';

export interface OpenOptions {
  synchronous?: SynchronousMode;
}

/** Opens (creating if needed) the engine's SQLite file in WAL mode. One file holds events, read models and checkpoints. */
export function openSqliteDatabase(path: string, options: OpenOptions = {}): SqliteDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
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
