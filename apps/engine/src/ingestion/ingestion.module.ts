import { Module } from '@nestjs/common';
import { IngestionController } from './ingestion.controller';
import { IngestionService } from './ingestion.service';

/** Segment-compatible HTTP ingestion: /v1/track, identify, page, screen, group, alias and batch. */
@Module({
  controllers: [IngestionController],
  providers: [IngestionService],
  exports: [IngestionService],
})
export class IngestionModule {}
