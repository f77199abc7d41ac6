import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { PersistenceModule } from './persistence.module';
import { AuthModule } from './auth/auth.module';
import { OperationsModule } from './operations/operations.module';
import { ReactorsModule } from './reactors/reactors.module';
import { MessagingModule } from './messaging/messaging.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { ProjectionsModule } from './projections/projections.module';
import { CustomersModule } from './customers/customers.module';
import { IntegrationModule } from './integration/integration.module';
import { TriggersModule } from './triggers/triggers.module';
import { BacktestModule } from './backtest/backtest.module';
import { DeadLettersModule } from './dead-letters/dead-letters.module';

/** The engine: HTTP API and workers. Which workers run is chosen by JOURNEY_ROLES (default: all of them). */
@Module({
  imports: [
    CqrsModule.forRoot(),
    PersistenceModule,
    OperationsModule,
    AuthModule,
    // feature modules (one folder each) are added below
    ReactorsModule,
    MessagingModule,
    IngestionModule,
    ProjectionsModule,
    CustomersModule,
    IntegrationModule,
    TriggersModule,
    BacktestModule,
    DeadLettersModule,
  ],
})
export class AppModule {}
