import { writeLocked, type SqliteDatabase } from './database';
import type { CheckpointStore } from '../checkpoint.port';

/** Checkpoints in the same SQLite file, so a projection can store its position in the transaction of its writes. */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly getStmt;
  private readonly setStmt;

  constructor(private readonly db: SqliteDatabase) {
    db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position TEXT NOT NULL) WITHOUT ROWID');
    this.getStmt = db.prepare<[string], { position: string }>('SELECT position FROM checkpoints WHERE name = ?');
    this.setStmt = db.prepare(
      'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
    );
  }

  /** Synchronous variant for use inside a caller's transaction. */
  getSync(name: string): bigint | undefined {
    const row = this.getStmt.get(name);
    return row ? BigInt(row.position) : undefined;
  }

  setSync(name: string, position: bigint): void {
    this.setStmt.run(name, position.toString());
  }

  async get(name: string): Promise<bigint | undefined> {
    return this.getSync(name);
  }

  async set(name: string, position: bigint): Promise<void> {
    await writeLocked(this.db, () => this.setSync(name, position));
  }
}
