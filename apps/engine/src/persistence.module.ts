import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import {
  CHECKPOINT_STORE,
  EVENT_STORE,
  EventStoreDbEventStore,
  SqliteCheckpointStore,
  SqliteEventStore,
  SQLITE_FILES,
  openSqliteDatabase,
  type CheckpointStore,
  type EventStore,
  type SqliteDatabase,
} from '@journey/event-store';
import { ENGINE_UPCASTERS } from '@journey/domain';
import { ENGINE_CONFIG, loadConfig, type EngineConfig } from './config';

export const SQLITE_DB = Symbol('SQLITE_DB');
/** The SQLite file of the read models (SQLITE_FILES.readModels); null when MONGODB_URL puts them in MongoDB. */
export const SQLITE_READ_MODELS_DB = Symbol('SQLITE_READ_MODELS_DB');

/** The engine under the EventStore port (it names the store's check in /health). */
export const eventStoreEngine = (config: EngineConfig): 'sqlite' | 'eventstoredb' => (config.eventStoreDbUrl ? 'eventstoredb' : 'sqlite');

/**
 * SQLite page cache per connection (each thread has one per file): large where the hot writes are (the log's appends
 * and the reactors' reads of it; the projector's read-modify-writes), small for the other thread's occasional reads.
 */
const CACHE_MB = { log: 64, readModels: 32, light: 8 };
/** The read models' WAL is checkpointed by the projector's own commits, every this many pages (4 MB). */
const READ_MODELS_CHECKPOINT_PAGES = 1_000;

/**
 * The engines under the ports, chosen by configuration only. The embedded default keeps everything in one SQLite file
 * under JOURNEY_DATA_DIR; EVENTSTOREDB_URL / MONGODB_URL / KAFKA_BROKERS switch each part to its scale-out engine.
 */
@Global()
@Module({
  providers: [
    { provide: ENGINE_CONFIG, useFactory: () => loadConfig() },
    {
      provide: SQLITE_DB,
      inject: [ENGINE_CONFIG],
      // One thread: SQLite checkpoints the WAL after commits. With a worker thread, the worker does it (operations/worker.ts).
      useFactory: (config: EngineConfig): SqliteDatabase =>
        openSqliteDatabase(join(config.dataDir, SQLITE_FILES.events), {
          synchronous: config.sqliteSynchronous,
          autoCheckpoint: config.workerRoles.size === 0,
          cacheMb: config.roles.has('api') || config.roles.has('reactor') ? CACHE_MB.log : CACHE_MB.light,
        }),
    },
    {
      provide: SQLITE_READ_MODELS_DB,
      inject: [ENGINE_CONFIG],
      useFactory: (config: EngineConfig): SqliteDatabase | null =>
        config.mongoUrl
          ? null
          : openSqliteDatabase(join(config.dataDir, SQLITE_FILES.readModels), {
              synchronous: 'NORMAL',
              autoCheckpoint: READ_MODELS_CHECKPOINT_PAGES,
              cacheMb: config.roles.has('projector') ? CACHE_MB.readModels : CACHE_MB.light,
            }),
    },
    {
      provide: EVENT_STORE,
      inject: [ENGINE_CONFIG, SQLITE_DB],
      // The engine's upcasters bring events written at older schema versions to the shape the code reads.
      useFactory: (config: EngineConfig, db: SqliteDatabase): EventStore =>
        eventStoreEngine(config) === 'eventstoredb'
          ? EventStoreDbEventStore.connect(config.eventStoreDbUrl!, { upcasters: ENGINE_UPCASTERS })
          : new SqliteEventStore(db, { upcasters: ENGINE_UPCASTERS }),
    },
    /**
     * Checkpoints live with the events: in SQLite by default, in EventStoreDB when it holds the events, so worker
     * processes keep no state on local disk (and, since that adapter's idempotency is windowed, never replay old
     * history because a disk was lost). See libs/event-store/src/eventstoredb/README.md.
     */
    {
      provide: CHECKPOINT_STORE,
      inject: [EVENT_STORE, SQLITE_DB],
      useFactory: (store: EventStore, db: SqliteDatabase): CheckpointStore =>
        store instanceof EventStoreDbEventStore ? store.checkpointStore() : new SqliteCheckpointStore(db),
    },
  ],
  exports: [ENGINE_CONFIG, SQLITE_DB, SQLITE_READ_MODELS_DB, EVENT_STORE, CHECKPOINT_STORE],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQLITE_DB) private readonly db: SqliteDatabase,
    @Inject(SQLITE_READ_MODELS_DB) private readonly readModelsDb: SqliteDatabase | null,
  ) {}

  /** Last to run: workers have stopped by now (their modules shut down first), so flush and close the files. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    if (this.db.open) this.db.close();
    if (this.readModelsDb?.open) this.readModelsDb.close();
  }
}
