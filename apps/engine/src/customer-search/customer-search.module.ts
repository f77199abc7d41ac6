import { Module } from '@nestjs/common';
import { ProjectionsModule } from '../projections/projections.module';
import { CustomerSearchController } from './customer-search.controller';
import { CustomerSearchHandler } from './customer-search.query';

/** Customer search (GET /v1/customers?…) over the customers read model's search index. */
@Module({
  imports: [ProjectionsModule],
  controllers: [CustomerSearchController],
  providers: [CustomerSearchHandler],
})
export class CustomerSearchModule {}
