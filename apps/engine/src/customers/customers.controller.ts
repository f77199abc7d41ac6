import { BadRequestException, Controller, Get, Inject, NotFoundException, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { STAGES, buildTimeline, customerStreamId, eventsAsOf, foldCustomer, type CustomerState } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { CUSTOMERS, READ_MODEL_STORE, STAGE_TRANSITIONS, customerDocId, type ReadModelStore, type StageTransitionDoc } from '@journey/read-models';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** `asOf` query parameter: an ISO 8601 date or date-time, or absent. */
export function parseAsOf(value: unknown): Date | undefined {
  if (value === undefined) return undefined;
  const ms = typeof value === 'string' && ISO_8601.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new BadRequestException(`asOf must be an ISO 8601 date or date-time such as 2025-01-31T12:00:00Z, got ${JSON.stringify(value)}`);
  return new Date(ms);
}

/**
 * Journey queries. Current state comes from the `customers` read model; `asOf` views and the timeline are folded from
 * the customer's stream (the per-customer index of the log), so they are exact at any moment.
 */
@ApiTags('customers')
@ApiBearerAuth('key')
@Controller('v1')
@Allow('admin', 'csm', 'analyst')
export class CustomersController {
  constructor(
    @Inject(READ_MODEL_STORE) private readonly store: ReadModelStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
  ) {}

  @Get('customers/:id')
  @ApiOperation({ summary: "A customer's state: stage, traits, health, counters, open tasks (as of a moment with asOf)" })
  @ApiQuery({ name: 'asOf', required: false, description: 'ISO 8601 time: the state as the engine knew it then' })
  async customer(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query('asOf') asOfParam?: unknown) {
    const asOf = parseAsOf(asOfParam);
    if (asOf) {
      const events = eventsAsOf(await this.events.readStream(customerStreamId(principal.workspaceId, id)), asOf);
      if (events.length === 0) throw new NotFoundException(`customer "${id}" had no events as of ${asOf.toISOString()}`);
      return { ...foldCustomer(principal.workspaceId, id, events), position: events[events.length - 1].position.toString(), asOf: asOf.toISOString() };
    }
    const stored = await this.store.get<CustomerState>(CUSTOMERS, customerDocId(principal.workspaceId, id));
    if (!stored) throw new NotFoundException(`customer "${id}" not found`);
    return { ...stored.doc, position: stored.pos.toString() };
  }

  @Get('customers/:id/timeline')
  @ApiOperation({ summary: 'The journey timeline in event-time order: interactions, stage changes, messages, tasks' })
  @ApiQuery({ name: 'asOf', required: false, description: 'ISO 8601 time: only what the engine had recorded by then' })
  async timeline(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query('asOf') asOfParam?: unknown) {
    const asOf = parseAsOf(asOfParam);
    const events = await this.events.readStream(customerStreamId(principal.workspaceId, id));
    if (events.length === 0) throw new NotFoundException(`customer "${id}" not found`);
    return { customerId: id, asOf: asOf?.toISOString() ?? null, entries: buildTimeline(events, { asOf }) };
  }

  @Get('analytics/stages')
  @ApiOperation({ summary: 'Customers per stage now, and stage transitions per day' })
  async stages(@CurrentPrincipal() principal: Principal) {
    const workspaceId = principal.workspaceId;
    const customersPerStage: Record<string, number> = { none: 0, ...Object.fromEntries(STAGES.map((s) => [s, 0])) };
    for (const { value, count } of await this.store.countBy(CUSTOMERS, 'stage', { workspaceId })) customersPerStage[value === null ? 'none' : String(value)] = count;
    const transitions = (await this.store.find<StageTransitionDoc>(STAGE_TRANSITIONS, { workspaceId }, { orderBy: ['day', 'from', 'to'] })).map(({ doc }) => ({
      day: doc.day,
      from: doc.from,
      to: doc.to,
      count: doc.count,
    }));
    return { customersPerStage, transitions };
  }
}
