import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { TriggersService, type TriggerDetail } from './triggers.service';

/** GET /v1/triggers/:id: the current definition (or the one of `version`) and the versions. */
export class GetTriggerQuery extends Query<TriggerDetail> {
  constructor(
    readonly workspaceId: string,
    readonly triggerId: string,
    readonly version?: number,
  ) {
    super();
  }
}

@QueryHandler(GetTriggerQuery)
export class GetTriggerHandler implements IQueryHandler<GetTriggerQuery> {
  constructor(private readonly triggers: TriggersService) {}

  execute({ workspaceId, triggerId, version }: GetTriggerQuery): Promise<TriggerDetail> {
    return this.triggers.get(workspaceId, triggerId, version);
  }
}
