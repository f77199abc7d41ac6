import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { BroadcastDoc } from '@journey/read-models';
import type { Principal } from '../auth/key-store';
import { BroadcastsService, type BroadcastDetail } from './broadcasts.service';

/** POST /v1/broadcasts: a new broadcast (400 naming what is wrong; 409 if its id is taken). */
export class ScheduleBroadcastCommand extends Command<BroadcastDetail> {
  constructor(
    readonly principal: Principal,
    readonly body: unknown,
  ) {
    super();
  }
}

/** POST /v1/broadcasts/:id/cancel: before it is due (409 once it completed, or already cancelled). */
export class CancelBroadcastCommand extends Command<BroadcastDetail> {
  constructor(
    readonly principal: Principal,
    readonly broadcastId: string,
  ) {
    super();
  }
}

export class ListBroadcastsQuery extends Query<{ broadcasts: BroadcastDoc[] }> {
  constructor(readonly workspaceId: string) {
    super();
  }
}

export class GetBroadcastQuery extends Query<BroadcastDetail> {
  constructor(
    readonly workspaceId: string,
    readonly broadcastId: string,
  ) {
    super();
  }
}

@CommandHandler(ScheduleBroadcastCommand)
export class ScheduleBroadcastHandler implements ICommandHandler<ScheduleBroadcastCommand> {
  constructor(private readonly broadcasts: BroadcastsService) {}
  execute({ principal, body }: ScheduleBroadcastCommand): Promise<BroadcastDetail> {
    return this.broadcasts.create(principal, body);
  }
}

@CommandHandler(CancelBroadcastCommand)
export class CancelBroadcastHandler implements ICommandHandler<CancelBroadcastCommand> {
  constructor(private readonly broadcasts: BroadcastsService) {}
  execute({ principal, broadcastId }: CancelBroadcastCommand): Promise<BroadcastDetail> {
    return this.broadcasts.cancel(principal, broadcastId);
  }
}

@QueryHandler(ListBroadcastsQuery)
export class ListBroadcastsHandler implements IQueryHandler<ListBroadcastsQuery> {
  constructor(private readonly broadcasts: BroadcastsService) {}
  async execute({ workspaceId }: ListBroadcastsQuery): Promise<{ broadcasts: BroadcastDoc[] }> {
    return { broadcasts: await this.broadcasts.list(workspaceId) };
  }
}

@QueryHandler(GetBroadcastQuery)
export class GetBroadcastHandler implements IQueryHandler<GetBroadcastQuery> {
  constructor(private readonly broadcasts: BroadcastsService) {}
  execute({ workspaceId, broadcastId }: GetBroadcastQuery): Promise<BroadcastDetail> {
    return this.broadcasts.get(workspaceId, broadcastId);
  }
}
