import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { KeyRole, Principal } from './api-keys';
import { KeyStore, type KeyView } from './key-store';

/** POST /v1/admin/keys: a key of the principal's workspace; the answer holds its plaintext, shown this once. */
export class CreateKeyCommand extends Command<{ key: string } & KeyView> {
  constructor(
    readonly principal: Principal,
    readonly fields: { role: KeyRole; name: string },
  ) {
    super();
  }
}

@CommandHandler(CreateKeyCommand)
export class CreateKeyHandler implements ICommandHandler<CreateKeyCommand> {
  constructor(private readonly keys: KeyStore) {}

  execute({ principal, fields }: CreateKeyCommand): Promise<{ key: string } & KeyView> {
    return this.keys.create(principal, fields);
  }
}
