import { ConflictException, Controller, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { customerStreamId, evolveDelivery, initialDeliveryState, requestResend } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { MESSAGES, READ_MODEL_STORE, messageDocId, type MessageDoc, type ReadModelStore } from '@journey/read-models';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';

export interface ResendAccepted {
  messageId: string;
  /** 1 for the first re-send of this message. */
  resend: number;
}

/**
 * Re-sending a failed message: the request is a MessageResendRequested in the customer's stream, which the dispatcher
 * (in whichever thread or process runs it) acts on like a new MessageScheduled: a new round of attempts under the same
 * messageId, so the same Idempotency-Key / Message-ID, and a fresh retry budget.
 */
@ApiTags('messaging')
@ApiBearerAuth('key')
@ApiUnauthorizedResponse({ description: 'No key or an unknown key' })
@ApiForbiddenResponse({ description: 'The key does not have a role allowed here' })
@Controller('v1/messages')
export class MessagesController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL_STORE) private readonly readModels: ReadModelStore,
  ) {}

  @Post(':id/resend')
  @HttpCode(202)
  @Allow('admin')
  @ApiOperation({ summary: 'Send a failed message again (same messageId and Idempotency-Key); explain lists the request and the new attempts' })
  @ApiAcceptedResponse({ schema: { example: { messageId: '…', resend: 1 } } })
  @ApiNotFoundResponse({ description: 'No message with this id in the key’s workspace (or not projected yet)' })
  @ApiConflictResponse({ description: 'The message has not failed (it is waiting, being sent, delivered or suppressed)' })
  async resend(@Param('id') messageId: string, @CurrentPrincipal() principal: Principal): Promise<ResendAccepted> {
    const found = await this.readModels.get<MessageDoc>(MESSAGES, messageDocId(principal.workspaceId, messageId));
    if (!found) throw new NotFoundException(`id: no message "${messageId}" in this workspace`);
    const streamId = customerStreamId(principal.workspaceId, found.doc.customerId);
    const state = (await this.store.readStream(streamId)).filter((e) => e.data.messageId === messageId).reduce(evolveDelivery, initialDeliveryState());
    if (!state.scheduled) throw new NotFoundException(`id: message "${messageId}" was never scheduled for delivery`);
    const request = requestResend(state, new Date());
    if (!request) throw new ConflictException(`id: message "${messageId}" is ${state.outcome ?? 'not resolved yet (waiting or being sent)'}; only a failed message can be re-sent`);
    await this.store.appendToStream(streamId, [request]);
    return { messageId, resend: request.data.resend };
  }
}
