import { BadRequestException, Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { CustomerContextQuery } from './context.query';
import { CustomerQuery } from './customer.query';
import { StageAnalyticsQuery } from './stage-analytics.query';
import { TimelineQuery } from './timeline.query';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `asOf` query parameter: an ISO 8601 date or date-time, or absent. */
export function parseAsOf(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw new BadRequestException(`asOf must be an ISO 8601 date or date-time such as 2025-01-31T12:00:00Z, got ${JSON.stringify(value)}`);
  return new Date(ms);
}

const CONTEXT_EXAMPLE = {
  customerId: 'ada',
  stage: 'renewal',
  stageSince: '2026-01-02T09:00:00.000Z',
  traits: { email: 'ada@example.com', plan: 'pro', csm_owner: 'sam' },
  accountTraits: { 'acme-inc': { seats: 40 } },
  health: 70,
  firstSeen: '2025-06-01T10:00:00.000Z',
  lastSeen: '2026-01-04T16:20:00.000Z',
  interactions: [{ type: 'InteractionRecorded', name: 'Report Exported', at: '2026-01-04T16:20:00.000Z', properties: { format: 'csv' } }],
  openTasks: [{ taskId: 't1', title: 'Renewal call', owner: 'sam', priority: 'high', openedAt: '2026-01-02T09:00:00.000Z' }],
  openConversations: [
    { conversationId: 'c2', status: 'open', channel: 'email', assignee: 'sam', priority: 'high', waitingOn: 'agent', messages: 3 },
  ],
  earlierConversations: [
    {
      conversationId: 'c1',
      status: 'resolved',
      channel: 'inbox',
      resolvedAt: '2025-11-03T10:00:00.000Z',
      resolvedBy: 'sam',
      automated: false,
      rating: { score: 5 },
    },
  ],
  recentMessages: [
    { messageId: 'm9', channel: 'email', subject: 'Your renewal', deliveredAt: '2026-01-03T08:00:00.000Z', triggerId: 'renewal-reminder' },
  ],
};

/** Journey queries (customer, timeline, context, stage analytics), each a query on the QueryBus. */
@ApiTags('customers')
@ApiKeyAuth('Not an admin, csm or analyst key')
@Controller('v1')
@Allow('admin', 'csm', 'analyst')
export class CustomersController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get('customers/:id')
  @ApiOperation({ summary: "A customer's state: stage, traits, health, counters, open tasks (as of a moment with asOf)" })
  @ApiQuery({ name: 'asOf', required: false, description: 'ISO 8601 time: the state as the engine knew it then' })
  customer(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query('asOf') asOfParam?: unknown) {
    return this.queryBus.execute(new CustomerQuery(principal.workspaceId, id, parseAsOf(asOfParam)));
  }

  @Get('customers/:id/timeline')
  @ApiOperation({ summary: 'The journey timeline in event-time order: interactions, stage changes, messages, tasks' })
  @ApiQuery({ name: 'asOf', required: false, description: 'ISO 8601 time: only what the engine had recorded by then' })
  timeline(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query('asOf') asOfParam?: unknown) {
    return this.queryBus.execute(new TimelineQuery(principal.workspaceId, id, parseAsOf(asOfParam)));
  }

  @Get('customers/:id/context')
  @ApiOperation({
    summary:
      'What an agent needs so as not to ask again: stage (since when), traits, account traits, health, the last 20 interactions, open tasks, open and earlier conversations (how they ended, CSAT), the last 10 messages received',
  })
  @ApiOkResponse({ schema: { example: CONTEXT_EXAMPLE } })
  @ApiNotFoundResponse({ description: 'No such customer' })
  context(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.queryBus.execute(new CustomerContextQuery(principal.workspaceId, id));
  }

  @Get('analytics/stages')
  @ApiOperation({ summary: 'Customers per stage now, and stage transitions per day' })
  stages(@CurrentPrincipal() principal: Principal) {
    return this.queryBus.execute(new StageAnalyticsQuery(principal.workspaceId));
  }
}
