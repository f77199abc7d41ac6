import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from './api-keys';
import { KeyStore } from './key-store';

/** DELETE /v1/admin/keys/:id: the key stops working at once (not the workspace's last admin key). */
export class RevokeKeyCommand extends Command<void> {
  constructor(
    readonly principal: Principal,
    readonly keyId: string,
  ) {
    super();
  }
}

@CommandHandler(RevokeKeyCommand)
export class RevokeKeyHandler implements ICommandHandler<RevokeKeyCommand> {
  constructor(private readonly keys: KeyStore) {}

  execute({ principal, keyId }: RevokeKeyCommand): Promise<void> {
    return this.keys.revoke(principal, keyId);
  }
}
