import { Module } from '@nestjs/common';
import { ConversationsModule } from '../conversations/conversations.module';
import { ProjectionsModule } from '../projections/projections.module';
import { CustomersController } from './customers.controller';
import { CustomerContextHandler } from './context.query';
import { CustomerHandler } from './customer.query';
import { StageAnalyticsHandler } from './stage-analytics.query';
import { TimelineHandler } from './timeline.query';

/** Journey queries: customer state, timeline (with time travel), the agent's context, stage analytics. */
@Module({
  imports: [ProjectionsModule, ConversationsModule],
  controllers: [CustomersController],
  providers: [CustomerHandler, CustomerContextHandler, TimelineHandler, StageAnalyticsHandler],
})
export class CustomersModule {}
