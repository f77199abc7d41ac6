import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { AnalyticsController } from './analytics.controller';
import { ConversationAnalyticsHandler } from './conversation-analytics.query';
import { ConversationMetrics } from './conversation-metrics';

/** Conversation analytics: GET /v1/analytics/conversations (from the read model) and the Prometheus conversation metrics. */
@Module({
  imports: [ProjectionsModule],
  controllers: [AnalyticsController],
  providers: [ConversationAnalyticsHandler, ConversationMetrics],
})
export class AnalyticsModule {}
