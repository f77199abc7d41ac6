import { BadRequestException, Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
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

/** Journey queries (customer, timeline, stage analytics), each a query on the QueryBus. */
@ApiTags('customers')
@ApiBearerAuth('key')
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

  @Get('analytics/stages')
  @ApiOperation({ summary: 'Customers per stage now, and stage transitions per day' })
  stages(@CurrentPrincipal() principal: Principal) {
    return this.queryBus.execute(new StageAnalyticsQuery(principal.workspaceId));
  }
}
