import { ConsoleModule } from './console/console.module';
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
import { CustomerSearchModule } from './customer-search/customer-search.module';
import { IntegrationModule } from './integration/integration.module';
import { TriggersModule } from './triggers/triggers.module';
import { BacktestModule } from './backtest/backtest.module';
import { DeadLettersModule } from './dead-letters/dead-letters.module';
import { ConversationsModule } from './conversations/conversations.module';
import { InAppModule } from './inapp/inapp.module';
import { TeamsModule } from './teams/teams.module';
import { ConversationsApiModule } from './conversations-api/conversations-api.module';
import { EmailModule } from './email/email.module';
import { SlackModule } from './slack/slack.module';
import { AnalyticsModule } from './analytics/analytics.module';
import { WorkModule } from './work/work.module';
import { UpcomingModule } from './upcoming/upcoming.module';
import { BroadcastsModule } from './broadcasts/broadcasts.module';
import { IdentityModule } from './identity/identity.module';
import { PreviewsModule } from './previews/previews.module';
import { SegmentsModule } from './segments/segments.module';

/** The engine's modules; the worker thread (operations/worker.ts) runs them without the keys of the HTTP API. */
export const engineModules = ({ keys }: { keys: boolean }) => [
  CqrsModule.forRoot(),
  PersistenceModule,
  OperationsModule,
  ...(keys ? [AuthModule] : []),
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
  ConversationsModule,
  InAppModule,
  TeamsModule,
  ConversationsApiModule,
  EmailModule,
  SlackModule,
  AnalyticsModule,
  WorkModule,
  UpcomingModule,
  BroadcastsModule,
  IdentityModule,
  PreviewsModule,
  SegmentsModule,
  CustomerSearchModule,
  ConsoleModule,
];

/** The engine: HTTP API and workers. Which workers run is chosen by JOURNEY_ROLES (default: all of them). */
@Module({ imports: engineModules({ keys: true }) })
export class AppModule {}
