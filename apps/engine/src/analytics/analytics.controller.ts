import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CONVERSATION_GROUP_BY, type ConversationAnalytics, type ConversationGroupBy } from '@journey/read-models';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { ConversationAnalyticsQuery } from './conversation-analytics.query';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const DAY_MS = 24 * 3_600_000;
/** Without `from`: the 30 days before `to`. */
const DEFAULT_DAYS = 30;
/** The longest period one request may ask for. */
const MAX_DAYS = 366 * 5;

function parseTime(name: string, value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw new BadRequestException(
      `${name} must be an ISO 8601 date or date-time such as 2025-01-31T12:00:00Z, got ${JSON.stringify(value)}`,
    );
  return new Date(ms);
}

/** The query parameters of GET /v1/analytics/conversations, checked: 400 naming the parameter that is wrong. */
export function parseConversationAnalyticsParams(
  query: Record<string, unknown>,
  now = new Date(),
): { from: Date; to: Date; groupBy?: ConversationGroupBy } {
  const unknown = Object.keys(query).filter((k) => !['from', 'to', 'groupBy'].includes(k));
  if (unknown.length)
    throw new BadRequestException(`unknown query parameter ${unknown.map((k) => `"${k}"`).join(', ')} (known: from, to, groupBy)`);
  const to = parseTime('to', query.to) ?? now;
  const from = parseTime('from', query.from) ?? new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime())
    throw new BadRequestException(`from must be before to, got from ${from.toISOString()} and to ${to.toISOString()}`);
  if (to.getTime() - from.getTime() > MAX_DAYS * DAY_MS) throw new BadRequestException(`from..to may span at most ${MAX_DAYS} days`);
  const groupBy = query.groupBy;
  if (groupBy !== undefined && !(CONVERSATION_GROUP_BY as readonly unknown[]).includes(groupBy))
    throw new BadRequestException(`groupBy must be one of ${CONVERSATION_GROUP_BY.join(', ')}, got ${JSON.stringify(groupBy)}`);
  return { from, to, ...(groupBy !== undefined && { groupBy: groupBy as ConversationGroupBy }) };
}

/** Conversation analytics, for the readers of a workspace (admin, csm, analyst). */
@ApiTags('analytics')
@ApiKeyAuth('A write key')
@Controller('v1/analytics')
@Allow('admin', 'csm', 'analyst')
export class AnalyticsController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get('conversations')
  @ApiOperation({
    summary:
      'Conversation figures over [from, to): first-response and resolution time p50/p90 (wall-clock seconds, nearest rank), SLA attainment, CSAT average and response rate, repeat-contact rate (7 days), engagement per active customer per week, automation rate; overall and per team, assignee, priority or channel',
  })
  @ApiQuery({
    name: 'from',
    required: false,
    description: 'ISO 8601 time; default: 30 days before `to`. Conversations started from then on',
  })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601 time, exclusive; default: now' })
  @ApiQuery({ name: 'groupBy', required: false, enum: CONVERSATION_GROUP_BY })
  @ApiOkResponse({ description: 'The figures: `overall`, and `groups` (one per key) with `groupBy`' })
  @ApiBadRequestResponse({ description: 'A parameter that is not an ISO time, from not before to, an unknown groupBy or parameter' })
  conversations(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>): Promise<ConversationAnalytics> {
    const { from, to, groupBy } = parseConversationAnalyticsParams(query);
    return this.queryBus.execute(new ConversationAnalyticsQuery(principal.workspaceId, from, to, groupBy));
  }
}
