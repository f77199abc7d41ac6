import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { InboxMessage } from '@journey/messaging';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { InboxQuery } from './inbox.query';
import { OpenInboxMessageCommand } from './open-inbox-message.command';

/**
 * The in-app inbox, read from the customer's stream. Reading needs an admin, csm or analyst key: write keys may ship
 * in browsers (as Segment's do), so they must not read anyone's messages. Marking a message opened takes the write key
 * too: it is engagement tracking, like a track call.
 */
@ApiTags('messaging')
@ApiKeyAuth()
@Controller('v1/customers/:id/inbox')
export class InboxController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "The customer's in-app inbox: delivered inbox messages, newest first" })
  @ApiOkResponse({
    schema: {
      example: {
        customerId: 'user-1',
        messages: [{ messageId: '…', subject: 'Welcome', body: 'Hi Ann', deliveredAt: '2025-01-01T00:00:00.000Z', opened: false }],
      },
    },
  })
  inbox(
    @Param('id') customerId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ customerId: string; messages: InboxMessage[] }> {
    return this.queryBus.execute(new InboxQuery(principal.workspaceId, customerId));
  }

  @Post(':messageId/opened')
  @HttpCode(200)
  @Allow('write', 'admin')
  @ApiOperation({ summary: 'Record that the customer opened an inbox message (idempotent: the first open counts)' })
  @ApiOkResponse({ schema: { example: { success: true } } })
  @ApiNotFoundResponse({ description: "No delivered inbox message with this id in the customer's inbox" })
  opened(
    @Param('id') customerId: string,
    @Param('messageId') messageId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<{ success: true }> {
    return this.commandBus.execute(new OpenInboxMessageCommand(principal.workspaceId, customerId, messageId));
  }
}
