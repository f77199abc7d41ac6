import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../auth/key-store';
import { TriggersService, validDocument, type TriggerChange } from './triggers.service';

/** PUT /v1/triggers/:id: a new version of an existing trigger; `ifMatch` is the version the client last saw. */
export class UpdateTriggerCommand extends Command<TriggerChange> {
  constructor(
    readonly principal: Principal,
    readonly triggerId: string,
    readonly document: unknown,
    readonly ifMatch?: number,
  ) {
    super();
  }
}

@CommandHandler(UpdateTriggerCommand)
export class UpdateTriggerHandler implements ICommandHandler<UpdateTriggerCommand> {
  constructor(private readonly triggers: TriggersService) {}

  async execute({ principal, triggerId, document, ifMatch }: UpdateTriggerCommand): Promise<TriggerChange> {
    validDocument(document);
    return this.triggers.decideAndAppend(
      principal,
      triggerId,
      { type: 'DefineTrigger', definition: document },
      { mustExist: true, ifMatch },
    );
  }
}
