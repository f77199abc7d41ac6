import { Inject } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { STAGES } from '@journey/domain';
import { CUSTOMERS, READ_MODEL_STORE, STAGE_TRANSITIONS, type ReadModelStore, type StageTransitionDoc } from '@journey/read-models';

export interface StageAnalytics {
  customersPerStage: Record<string, number>;
  transitions: Array<Pick<StageTransitionDoc, 'day' | 'from' | 'to' | 'count'>>;
}

/** GET /v1/analytics/stages: customers per stage now, and stage transitions per day. */
export class StageAnalyticsQuery extends Query<StageAnalytics> {
  constructor(readonly workspaceId: string) {
    super();
  }
}

@QueryHandler(StageAnalyticsQuery)
export class StageAnalyticsHandler implements IQueryHandler<StageAnalyticsQuery> {
  constructor(@Inject(READ_MODEL_STORE) private readonly store: ReadModelStore) {}

  async execute({ workspaceId }: StageAnalyticsQuery): Promise<StageAnalytics> {
    const customersPerStage: Record<string, number> = { none: 0, ...Object.fromEntries(STAGES.map((s) => [s, 0])) };
    for (const { value, count } of await this.store.countBy(CUSTOMERS, 'stage', { workspaceId }))
      customersPerStage[value === null ? 'none' : String(value)] = count;
    const transitions = (
      await this.store.find<StageTransitionDoc>(STAGE_TRANSITIONS, { workspaceId }, { orderBy: ['day', 'from', 'to'] })
    ).map(({ doc }) => ({
      day: doc.day,
      from: doc.from,
      to: doc.to,
      count: doc.count,
    }));
    return { customersPerStage, transitions };
  }
}
