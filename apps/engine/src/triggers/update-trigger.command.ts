import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../auth/key-store';
import { checkForce, type ChangeOptions, type TriggerImpact } from './trigger-impact';
import { TriggersService, validDocument, type TriggerChange } from './triggers.service';

/**
 * PUT /v1/triggers/:id: a new version of an existing trigger; `ifMatch` is the version the client last saw. With
 * `options.dryRun`: the impact of the new version beside the current one, nothing changed; `options.force`: an admin
 * overrides the workspace policy (a new version of an enabled trigger is live at once, so the policy applies).
 */
export class UpdateTriggerCommand extends Command<TriggerChange | TriggerImpact> {
  constructor(
    readonly principal: Principal,
    readonly triggerId: string,
    readonly document: unknown,
    readonly ifMatch?: number,
    readonly options: ChangeOptions = {},
  ) {
    super();
  }
}

@CommandHandler(UpdateTriggerCommand)
export class UpdateTriggerHandler implements ICommandHandler<UpdateTriggerCommand> {
  constructor(private readonly triggers: TriggersService) {}

  async execute({ principal, triggerId, document, ifMatch, options }: UpdateTriggerCommand): Promise<TriggerChange | TriggerImpact> {
    if (options.dryRun) return this.triggers.dryRun(principal, triggerId, { type: 'update', document }, options.dryRun, ifMatch);
    checkForce(principal, options);
    validDocument(document);
    return this.triggers.decideAndAppend(
      principal,
      triggerId,
      { type: 'DefineTrigger', definition: document },
      { mustExist: true, ifMatch, force: options.force },
    );
  }
}
