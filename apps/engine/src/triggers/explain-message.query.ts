import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { TriggerInsightsService, type MessageExplanation } from './trigger-insights.service';

/** GET /v1/messages/:id/explain: why a message was sent or suppressed. */
export class ExplainMessageQuery extends Query<MessageExplanation> {
  constructor(
    readonly workspaceId: string,
    readonly messageId: string,
  ) {
    super();
  }
}

@QueryHandler(ExplainMessageQuery)
export class ExplainMessageHandler implements IQueryHandler<ExplainMessageQuery> {
  constructor(private readonly insights: TriggerInsightsService) {}

  execute({ workspaceId, messageId }: ExplainMessageQuery): Promise<MessageExplanation> {
    return this.insights.explain(workspaceId, messageId);
  }
}
