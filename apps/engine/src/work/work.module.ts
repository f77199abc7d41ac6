import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { ProjectionsModule } from '../projections/projections.module';
import { WorkFeed } from './work-feed';
import { WorkController } from './work.controller';
import { WorkHandler } from './work.query';

/** The CSM's work queue over HTTP: GET /v1/work from the `work` read model, and its live stream. */
@Module({
  imports: [ProjectionsModule, ConversationsModule],
  controllers: [WorkController],
  providers: [WorkHandler, WorkFeed],
})
export class WorkModule {}
