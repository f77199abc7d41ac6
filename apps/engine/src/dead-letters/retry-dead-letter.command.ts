import { ConflictException, Inject, NotFoundException } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { DeadLetter } from '@journey/domain';
import { EVENT_STORE, requestDeadLetterRetry, type EventStore } from '@journey/event-store';

/** POST /v1/admin/dead-letters/:id/retry: a retry request in the log, which the owning subscriber picks up. */
export class RetryDeadLetterCommand extends Command<DeadLetter> {
  constructor(
    readonly workspaceId: string,
    readonly deadLetterId: string,
  ) {
    super();
  }
}

@CommandHandler(RetryDeadLetterCommand)
export class RetryDeadLetterHandler implements ICommandHandler<RetryDeadLetterCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ workspaceId, deadLetterId: id }: RetryDeadLetterCommand): Promise<DeadLetter> {
    const retry = await requestDeadLetterRetry(this.store, workspaceId, id, 'admin');
    if (retry.outcome === 'not-found')
      throw new NotFoundException(`no dead letter "${id}" in this workspace (GET /v1/admin/dead-letters lists them)`);
    if (retry.outcome === 'resolved') throw new ConflictException(`dead letter "${id}" is already resolved`);
    return retry.letter;
  }
}
