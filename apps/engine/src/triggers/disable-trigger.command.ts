import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../auth/key-store';
import { TriggersService, type TriggerChange } from './triggers.service';

/** POST /v1/triggers/:id/disable: no new runs; active runs end. */
export class DisableTriggerCommand extends Command<TriggerChange> {
  constructor(
    readonly principal: Principal,
    readonly triggerId: string,
    readonly ifMatch?: number,
  ) {
    super();
  }
}

@CommandHandler(DisableTriggerCommand)
export class DisableTriggerHandler implements ICommandHandler<DisableTriggerCommand> {
  constructor(private readonly triggers: TriggersService) {}

  execute({ principal, triggerId, ifMatch }: DisableTriggerCommand): Promise<TriggerChange> {
    return this.triggers.decideAndAppend(principal, triggerId, { type: 'DisableTrigger' }, { mustExist: true, ifMatch });
  }
}
