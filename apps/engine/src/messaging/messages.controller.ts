import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiAcceptedResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { ResendMessageCommand, type ResendAccepted } from './resend-message.command';

/** Re-sending a failed message (see ResendMessageCommand). */
@ApiTags('messaging')
@ApiKeyAuth()
@Controller('v1/messages')
export class MessagesController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post(':id/resend')
  @HttpCode(202)
  @Allow('admin')
  @ApiOperation({
    summary: 'Send a failed message again (same messageId and Idempotency-Key); explain lists the request and the new attempts',
  })
  @ApiAcceptedResponse({ schema: { example: { messageId: '…', resend: 1 } } })
  @ApiNotFoundResponse({ description: 'No message with this id in the key’s workspace (or not projected yet)' })
  @ApiConflictResponse({ description: 'The message has not failed (it is waiting, being sent, delivered or suppressed)' })
  resend(@Param('id') messageId: string, @CurrentPrincipal() principal: Principal): Promise<ResendAccepted> {
    return this.commandBus.execute(new ResendMessageCommand(principal.workspaceId, messageId));
  }
}
