import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../auth/key-store';
import { checkForce, type ChangeOptions, type TriggerImpact } from './trigger-impact';
import { TriggersService, type TriggerChange } from './triggers.service';

/**
 * POST /v1/triggers/:id/enable: enable the latest version. With `options.dryRun`: its impact beside what is live now
 * (nothing, for a disabled trigger), nothing changed; `options.force`: an admin overrides the workspace policy.
 */
export class EnableTriggerCommand extends Command<TriggerChange | TriggerImpact> {
  constructor(
    readonly principal: Principal,
    readonly triggerId: string,
    readonly ifMatch?: number,
    readonly options: ChangeOptions = {},
  ) {
    super();
  }
}

@CommandHandler(EnableTriggerCommand)
export class EnableTriggerHandler implements ICommandHandler<EnableTriggerCommand> {
  constructor(private readonly triggers: TriggersService) {}

  execute({ principal, triggerId, ifMatch, options }: EnableTriggerCommand): Promise<TriggerChange | TriggerImpact> {
    if (options.dryRun) return this.triggers.dryRun(principal, triggerId, { type: 'enable' }, options.dryRun, ifMatch);
    checkForce(principal, options);
    return this.triggers.decideAndAppend(
      principal,
      triggerId,
      { type: 'EnableTrigger' },
      { mustExist: true, ifMatch, force: options.force },
    );
  }
}
