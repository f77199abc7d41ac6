import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { TriggerInsightsService, type TriggerVersionStats } from './trigger-insights.service';

/** GET /v1/analytics/triggers: funnel counts per trigger, version and step (of one trigger with `triggerId`). */
export class TriggerAnalyticsQuery extends Query<{ triggers: TriggerVersionStats[] }> {
  constructor(
    readonly workspaceId: string,
    readonly triggerId?: string,
    /** A UTC day (YYYY-MM-DD): lift as it was at the end of that day. */
    readonly asOf?: string,
  ) {
    super();
  }
}

@QueryHandler(TriggerAnalyticsQuery)
export class TriggerAnalyticsHandler implements IQueryHandler<TriggerAnalyticsQuery> {
  constructor(private readonly insights: TriggerInsightsService) {}

  async execute({ workspaceId, triggerId, asOf }: TriggerAnalyticsQuery): Promise<{ triggers: TriggerVersionStats[] }> {
    return { triggers: await this.insights.analytics(workspaceId, triggerId, asOf) };
  }
}
