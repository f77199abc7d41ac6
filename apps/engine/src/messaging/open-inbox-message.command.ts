import { Inject, NotFoundException } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { customerStreamId, deterministicId, envelope } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { inboxFromStream } from '@journey/messaging';

/** POST /v1/customers/:id/inbox/:messageId/opened: the customer opened an inbox message (the first open counts). */
export class OpenInboxMessageCommand extends Command<{ success: true }> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
    readonly messageId: string,
  ) {
    super();
  }
}

@CommandHandler(OpenInboxMessageCommand)
export class OpenInboxMessageHandler implements ICommandHandler<OpenInboxMessageCommand> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async execute({ workspaceId, customerId, messageId }: OpenInboxMessageCommand): Promise<{ success: true }> {
    const streamId = customerStreamId(workspaceId, customerId);
    if (!inboxFromStream(await this.store.readStream(streamId)).some((m) => m.messageId === messageId)) {
      throw new NotFoundException(`messageId: no delivered inbox message "${messageId}" for customer "${customerId}"`);
    }
    const now = new Date().toISOString();
    const event = envelope({
      id: deterministicId('message-opened', workspaceId, messageId),
      type: 'MessageOpened',
      data: { messageId },
      workspaceId,
      customerId,
      occurredAt: now,
      recordedAt: now,
      source: 'http',
    });
    await this.store.appendToStream(streamId, [event]);
    return { success: true };
  }
}
