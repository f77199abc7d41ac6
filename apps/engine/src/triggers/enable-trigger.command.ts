import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../auth/key-store';
import { TriggersService, type TriggerChange } from './triggers.service';

/** POST /v1/triggers/:id/enable: enable the latest version. */
export class EnableTriggerCommand extends Command<TriggerChange> {
  constructor(
    readonly principal: Principal,
    readonly triggerId: string,
    readonly ifMatch?: number,
  ) {
    super();
  }
}

@CommandHandler(EnableTriggerCommand)
export class EnableTriggerHandler implements ICommandHandler<EnableTriggerCommand> {
  constructor(private readonly triggers: TriggersService) {}

  execute({ principal, triggerId, ifMatch }: EnableTriggerCommand): Promise<TriggerChange> {
    return this.triggers.decideAndAppend(principal, triggerId, { type: 'EnableTrigger' }, { mustExist: true, ifMatch });
  }
}
