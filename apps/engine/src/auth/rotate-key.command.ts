import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from './api-keys';
import { KeyStore, type KeyView } from './key-store';

/** POST /v1/admin/keys/:id/rotate: a new key with the old one's role and name; the old key stops working. */
export class RotateKeyCommand extends Command<{ key: string; replaces: string } & KeyView> {
  constructor(
    readonly principal: Principal,
    readonly keyId: string,
  ) {
    super();
  }
}

@CommandHandler(RotateKeyCommand)
export class RotateKeyHandler implements ICommandHandler<RotateKeyCommand> {
  constructor(private readonly keys: KeyStore) {}

  execute({ principal, keyId }: RotateKeyCommand): Promise<{ key: string; replaces: string } & KeyView> {
    return this.keys.rotate(principal, keyId);
  }
}
