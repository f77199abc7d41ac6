import { Module } from '@nestjs/common';
import type { SqliteDatabase } from '@journey/event-store';
import { READ_MODEL_STORE, SqliteReadModelStore } from '@journey/read-models';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { SQLITE_DB } from '../persistence.module';
import { ProjectionsController } from './projections.controller';
import { ProjectionsService } from './projections.service';

/** Read models: the store under the READ_MODEL_STORE port, and the projection runners (role `projector`). */
@Module({
  controllers: [ProjectionsController],
  providers: [
    {
      provide: READ_MODEL_STORE,
      inject: [ENGINE_CONFIG, SQLITE_DB],
      useFactory: (config: EngineConfig, db: SqliteDatabase) => {
        if (config.mongoUrl) throw new Error('MONGODB_URL is set but the MongoDB read-model adapter is not wired yet');
        return new SqliteReadModelStore(db);
      },
    },
    ProjectionsService,
  ],
  exports: [READ_MODEL_STORE, ProjectionsService],
})
export class ProjectionsModule {}
