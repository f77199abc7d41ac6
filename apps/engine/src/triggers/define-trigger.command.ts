import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../auth/key-store';
import { TriggersService, validDocument, type TriggerChange } from './triggers.service';

/** POST /v1/triggers: a new trigger, version 1, disabled (409 if the id is taken). */
export class DefineTriggerCommand extends Command<TriggerChange> {
  constructor(
    readonly principal: Principal,
    readonly document: unknown,
  ) {
    super();
  }
}

@CommandHandler(DefineTriggerCommand)
export class DefineTriggerHandler implements ICommandHandler<DefineTriggerCommand> {
  constructor(private readonly triggers: TriggersService) {}

  async execute({ principal, document }: DefineTriggerCommand): Promise<TriggerChange> {
    const definition = validDocument(document);
    return this.triggers.decideAndAppend(principal, definition.id, { type: 'DefineTrigger', definition }, { mustExist: false });
  }
}
