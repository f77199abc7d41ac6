import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { CustomersController } from './customers.controller';
import { CustomerHandler } from './customer.query';
import { StageAnalyticsHandler } from './stage-analytics.query';
import { TimelineHandler } from './timeline.query';

/** Journey queries: customer state, timeline (with time travel), stage analytics. */
@Module({
  imports: [ProjectionsModule],
  controllers: [CustomersController],
  providers: [CustomerHandler, TimelineHandler, StageAnalyticsHandler],
})
export class CustomersModule {}
