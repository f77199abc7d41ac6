import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { OrganisationCommand, OrganisationState } from '@journey/domain';
import { actorOf, type Principal } from '../auth/api-keys';
import { OrganisationService } from '../conversations/organisation.service';

/**
 * A change to the workspace's teams and members (define, remove, availability), decided on the `teams-<workspace>`
 * stream as the caller's member (or key). `ifMatch`: the stream revision the caller read (412 on another).
 */
export class ChangeOrganisationCommand extends Command<{ state: OrganisationState; changed: boolean }> {
  constructor(
    readonly principal: Principal,
    readonly command: OrganisationCommand,
    readonly ifMatch?: number,
  ) {
    super();
  }
}

@CommandHandler(ChangeOrganisationCommand)
export class ChangeOrganisationHandler implements ICommandHandler<ChangeOrganisationCommand> {
  constructor(private readonly organisation: OrganisationService) {}

  execute({ principal, command, ifMatch }: ChangeOrganisationCommand) {
    return this.organisation.decide(principal.workspaceId, command, {
      by: actorOf(principal),
      ...(ifMatch !== undefined && { ifMatch }),
    });
  }
}

/** The workspace's teams and members, as its stream says now. */
export class OrganisationQuery extends Query<OrganisationState> {
  constructor(readonly workspaceId: string) {
    super();
  }
}

@QueryHandler(OrganisationQuery)
export class OrganisationQueryHandler implements IQueryHandler<OrganisationQuery> {
  constructor(private readonly organisation: OrganisationService) {}

  execute({ workspaceId }: OrganisationQuery): Promise<OrganisationState> {
    return this.organisation.load(workspaceId);
  }
}
