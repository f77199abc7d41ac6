import { Module } from '@nestjs/common';
import { IngestionController } from './ingestion.controller';
import { IngestionService } from './ingestion.service';
import { RecordSegmentBatchHandler } from './record-segment-batch.command';
import { RecordSegmentCallHandler } from './record-segment-call.command';

/** Segment-compatible HTTP ingestion: /v1/track, identify, page, screen, group, alias and batch. */
@Module({
  controllers: [IngestionController],
  providers: [IngestionService, RecordSegmentCallHandler, RecordSegmentBatchHandler],
  exports: [IngestionService],
})
export class IngestionModule {}
