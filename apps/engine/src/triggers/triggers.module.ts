import { Module } from '@nestjs/common';
import { REACTORS, TriggerReactor } from '@journey/reactors';
import { Metrics } from '../operations/metrics';
import { ProjectionsModule } from '../projections/projections.module';
import { TriggerInsightsController, TriggersController } from './triggers.controller';
import { TriggerInsightsService } from './trigger-insights.service';
import { TriggersService } from './triggers.service';
import { DefineTriggerHandler } from './define-trigger.command';
import { UpdateTriggerHandler } from './update-trigger.command';
import { EnableTriggerHandler } from './enable-trigger.command';
import { DisableTriggerHandler } from './disable-trigger.command';
import { ListTriggersHandler } from './list-triggers.query';
import { GetTriggerHandler } from './get-trigger.query';
import { ExplainMessageHandler } from './explain-message.query';
import { TriggerAnalyticsHandler } from './trigger-analytics.query';
import { ShadowController } from './shadow.controller';
import { GetShadowHandler, StartShadowHandler, StopShadowHandler } from './shadow.commands';

const HANDLERS = [
  DefineTriggerHandler,
  UpdateTriggerHandler,
  EnableTriggerHandler,
  DisableTriggerHandler,
  ListTriggersHandler,
  GetTriggerHandler,
  ExplainMessageHandler,
  TriggerAnalyticsHandler,
  StartShadowHandler,
  StopShadowHandler,
  GetShadowHandler,
];

/**
 * Triggers: definitions over HTTP (through the definition decider, into the trigger streams), the TriggerReactor that
 * runs customers through them (registered under REACTORS, run by ReactorsModule in the `reactor` role), message
 * explanations and trigger analytics (from the `trigger-analytics` read model).
 */
@Module({
  imports: [ProjectionsModule],
  controllers: [TriggersController, TriggerInsightsController, ShadowController],
  providers: [
    TriggersService,
    TriggerInsightsService,
    ...HANDLERS,
    {
      provide: REACTORS,
      inject: [Metrics],
      useFactory: (metrics: Metrics) => new TriggerReactor({ onMatched: (trigger) => metrics.triggerMatches.inc({ trigger }) }),
    },
  ],
})
export class TriggersModule {}
