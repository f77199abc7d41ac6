import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import {
  CHECKPOINT_STORE,
  EVENT_STORE,
  EventStoreDbEventStore,
  SqliteCheckpointStore,
  SqliteEventStore,
  openSqliteDatabase,
  type CheckpointStore,
  type EventStore,
  type SqliteDatabase,
} from '@journey/event-store';
import { ENGINE_CONFIG, loadConfig, type EngineConfig } from './config';
import { KeyStore } from './auth/key-store';

export const SQLITE_DB = Symbol('SQLITE_DB');

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
      useFactory: (config: EngineConfig): SqliteDatabase => openSqliteDatabase(join(config.dataDir, 'journey.db'), { synchronous: config.sqliteSynchronous }),
    },
    {
      provide: EVENT_STORE,
      inject: [ENGINE_CONFIG, SQLITE_DB],
      useFactory: (config: EngineConfig, db: SqliteDatabase): EventStore =>
        config.eventStoreDbUrl ? EventStoreDbEventStore.connect(config.eventStoreDbUrl) : new SqliteEventStore(db),
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
    {
      provide: KeyStore,
      inject: [ENGINE_CONFIG],
      useFactory: (config: EngineConfig) => {
        const { store, createdFile } = KeyStore.load({ dataDir: config.dataDir, workspaceId: config.defaultWorkspace, writeKey: config.writeKey, adminKey: config.adminKey });
        if (createdFile) console.log(`journey: created keys for workspace "${config.defaultWorkspace}" in ${createdFile}`);
        return store;
      },
    },
  ],
  exports: [ENGINE_CONFIG, SQLITE_DB, EVENT_STORE, CHECKPOINT_STORE, KeyStore],
})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(SQLITE_DB) private readonly db: SqliteDatabase,
  ) {}

  /** Last to run: workers have stopped by now (their modules shut down first), so flush and close the file. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    if (this.db.open) this.db.close();
  }
}
