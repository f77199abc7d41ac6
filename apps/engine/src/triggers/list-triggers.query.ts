import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { TriggersService, type TriggerListItem } from './triggers.service';

/** GET /v1/triggers: every trigger of the workspace (with whether it was ever enabled: never is a draft). */
export class ListTriggersQuery extends Query<{ triggers: TriggerListItem[] }> {
  constructor(readonly workspaceId: string) {
    super();
  }
}

@QueryHandler(ListTriggersQuery)
export class ListTriggersHandler implements IQueryHandler<ListTriggersQuery> {
  constructor(private readonly triggers: TriggersService) {}

  async execute({ workspaceId }: ListTriggersQuery): Promise<{ triggers: TriggerListItem[] }> {
    return { triggers: await this.triggers.list(workspaceId) };
  }
}
