import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { SqliteDatabase } from '@journey/event-store';
import { MongoReadModelStore, READ_MODEL_STORE, SqliteReadModelStore, type ReadModelStore } from '@journey/read-models';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { SQLITE_READ_MODELS_DB } from '../persistence.module';
import { ProjectionsController } from './projections.controller';
import { ProjectionsService } from './projections.service';
import { ProjectionStatusHandler } from './projection-status.query';
import { RebuildProjectionHandler } from './rebuild-projection.command';

/**
 * Read models: the store under the READ_MODEL_STORE port (MongoDB collections when MONGODB_URL is set, see
 * deploy/mongodb.md; otherwise tables in the SQLite file SQLITE_FILES.readModels), and the projection runner (role `projector`).
 */
@Module({
  controllers: [ProjectionsController],
  providers: [
    {
      provide: READ_MODEL_STORE,
      inject: [ENGINE_CONFIG, SQLITE_READ_MODELS_DB],
      useFactory: (config: EngineConfig, db: SqliteDatabase | null): ReadModelStore =>
        db ? new SqliteReadModelStore(db) : MongoReadModelStore.fromUrl(config.mongoUrl!),
    },
    ProjectionsService,
    ProjectionStatusHandler,
    RebuildProjectionHandler,
  ],
  exports: [READ_MODEL_STORE, ProjectionsService],
})
export class ProjectionsModule implements OnApplicationShutdown {
  constructor(@Inject(READ_MODEL_STORE) private readonly store: ReadModelStore) {}

  /** After the runners stopped (module destroy): closes the MongoDB client. */
  async onApplicationShutdown(): Promise<void> {
    if (this.store instanceof MongoReadModelStore) await this.store.close();
  }
}
