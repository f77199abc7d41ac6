import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { CustomersController } from './customers.controller';

/** Journey queries: customer state, timeline (with time travel), stage analytics. */
@Module({
  imports: [ProjectionsModule],
  controllers: [CustomersController],
})
export class CustomersModule {}
