import { Controller, Get, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { customerStreamId, deterministicId, envelope } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { inboxFromStream, type InboxMessage } from '@journey/messaging';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';

/**
 * The in-app inbox, read from the customer's stream. Reading needs an admin, csm or analyst key: write keys may ship
 * in browsers (as Segment's do), so they must not read anyone's messages. Marking a message opened takes the write key
 * too: it is engagement tracking, like a track call.
 */
@ApiTags('messaging')
@ApiBearerAuth('key')
@ApiUnauthorizedResponse({ description: 'No key or an unknown key' })
@ApiForbiddenResponse({ description: 'The key does not have a role allowed here' })
@Controller('v1/customers/:id/inbox')
export class InboxController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "The customer's in-app inbox: delivered inbox messages, newest first" })
  @ApiOkResponse({ schema: { example: { customerId: 'user-1', messages: [{ messageId: '…', subject: 'Welcome', body: 'Hi Ann', deliveredAt: '2025-01-01T00:00:00.000Z', opened: false }] } } })
  async inbox(@Param('id') customerId: string, @CurrentPrincipal() principal: Principal): Promise<{ customerId: string; messages: InboxMessage[] }> {
    return { customerId, messages: inboxFromStream(await this.store.readStream(customerStreamId(principal.workspaceId, customerId))) };
  }

  @Post(':messageId/opened')
  @HttpCode(200)
  @Allow('write', 'admin')
  @ApiOperation({ summary: 'Record that the customer opened an inbox message (idempotent: the first open counts)' })
  @ApiOkResponse({ schema: { example: { success: true } } })
  @ApiNotFoundResponse({ description: "No delivered inbox message with this id in the customer's inbox" })
  async opened(@Param('id') customerId: string, @Param('messageId') messageId: string, @CurrentPrincipal() principal: Principal): Promise<{ success: true }> {
    const streamId = customerStreamId(principal.workspaceId, customerId);
    if (!inboxFromStream(await this.store.readStream(streamId)).some((m) => m.messageId === messageId)) {
      throw new NotFoundException(`messageId: no delivered inbox message "${messageId}" for customer "${customerId}"`);
    }
    const now = new Date().toISOString();
    const event = envelope({
      id: deterministicId('message-opened', principal.workspaceId, messageId),
      type: 'MessageOpened',
      data: { messageId },
      workspaceId: principal.workspaceId,
      customerId,
      occurredAt: now,
      recordedAt: now,
      source: 'http',
    });
    await this.store.appendToStream(streamId, [event]);
    return { success: true };
  }
}
