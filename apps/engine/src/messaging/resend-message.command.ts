import { ConflictException, Inject, NotFoundException } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { customerStreamId, evolveDelivery, initialDeliveryState, requestResend } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { MESSAGES, READ_MODEL_STORE, messageDocId, type MessageDoc, type ReadModelStore } from '@journey/read-models';

export interface ResendAccepted {
  messageId: string;
  /** 1 for the first re-send of this message. */
  resend: number;
}

/**
 * POST /v1/messages/:id/resend: the request is a MessageResendRequested in the customer's stream, which the dispatcher
 * (in whichever thread or process runs it) acts on like a new MessageScheduled: a new round of attempts under the same
 * messageId, so the same Idempotency-Key / Message-ID, and a fresh retry budget.
 */
export class ResendMessageCommand extends Command<ResendAccepted> {
  constructor(
    readonly workspaceId: string,
    readonly messageId: string,
  ) {
    super();
  }
}

@CommandHandler(ResendMessageCommand)
export class ResendMessageHandler implements ICommandHandler<ResendMessageCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  async execute({ workspaceId, messageId }: ResendMessageCommand): Promise<ResendAccepted> {
    const found = await this.readModels.get<MessageDoc>(MESSAGES, messageDocId(workspaceId, messageId));
    if (!found) throw new NotFoundException(`id: no message "${messageId}" in this workspace`);
    const streamId = customerStreamId(workspaceId, found.doc.customerId);
    const state = (await this.store.readStream(streamId))
      .filter((e) => e.data.messageId === messageId)
      .reduce(evolveDelivery, initialDeliveryState());
    if (!state.scheduled) throw new NotFoundException(`id: message "${messageId}" was never scheduled for delivery`);
    const request = requestResend(state, new Date());
    if (!request)
      throw new ConflictException(
        `id: message "${messageId}" is ${state.outcome ?? 'not resolved yet (waiting or being sent)'}; only a failed message can be re-sent`,
      );
    await this.store.appendToStream(streamId, [request]);
    return { messageId, resend: request.data.resend };
  }
}
