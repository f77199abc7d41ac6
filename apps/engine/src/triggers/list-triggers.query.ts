import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { TriggersService, type TriggerSummary } from './triggers.service';

/** GET /v1/triggers: every trigger of the workspace. */
export class ListTriggersQuery extends Query<{ triggers: TriggerSummary[] }> {
  constructor(readonly workspaceId: string) {
    super();
  }
}

@QueryHandler(ListTriggersQuery)
export class ListTriggersHandler implements IQueryHandler<ListTriggersQuery> {
  constructor(private readonly triggers: TriggersService) {}

  async execute({ workspaceId }: ListTriggersQuery): Promise<{ triggers: TriggerSummary[] }> {
    return { triggers: await this.triggers.list(workspaceId) };
  }
}
