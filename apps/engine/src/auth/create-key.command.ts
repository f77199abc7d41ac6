import { BadRequestException } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { OrganisationService } from '../conversations/organisation.service';
import type { KeyRole, Principal } from './api-keys';
import { KeyStore, type KeyView } from './key-store';

/** POST /v1/admin/keys: a key of the principal's workspace; the answer holds its plaintext, shown this once. */
export class CreateKeyCommand extends Command<{ key: string } & KeyView> {
  constructor(
    readonly principal: Principal,
    readonly fields: { role: KeyRole; name: string; memberId?: string },
  ) {
    super();
  }
}

@CommandHandler(CreateKeyCommand)
export class CreateKeyHandler implements ICommandHandler<CreateKeyCommand> {
  constructor(
    private readonly keys: KeyStore,
    private readonly organisation: OrganisationService,
  ) {}

  async execute({ principal, fields }: CreateKeyCommand): Promise<{ key: string } & KeyView> {
    if (fields.memberId !== undefined && !(await this.organisation.load(principal.workspaceId)).members.has(fields.memberId))
      throw new BadRequestException(
        `memberId: no member "${fields.memberId}" in workspace "${principal.workspaceId}" (define it first: PUT /v1/members/${fields.memberId})`,
      );
    return this.keys.create(principal, fields);
  }
}
