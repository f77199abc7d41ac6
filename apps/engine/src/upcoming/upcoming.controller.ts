import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { DEFAULT_HORIZON, MAX_HORIZON_DAYS, UpcomingQuery, parseHorizon } from './upcoming.query';

const EXAMPLE = {
  customerId: 'ada',
  now: '2026-03-03T09:00:00.000Z',
  horizon: '2026-04-02T09:00:00.000Z',
  timeZone: 'Europe/Berlin',
  timers: [
    {
      timerId: 'f1c2…',
      kind: 'trigger-entry',
      purpose: 'trigger:onboarding-activation-nudge',
      dueAt: '2026-03-06T08:00:00.000Z',
      dueLocal: '6 Mar 09:00 Europe/Berlin',
      triggerId: 'onboarding-activation-nudge',
      triggerName: 'Activation nudge',
      version: 3,
      unless: ['Activated'],
      then: [
        {
          kind: 'send',
          at: '2026-03-06T08:00:00.000Z',
          atLocal: '6 Mar 09:00 Europe/Berlin',
          triggerId: 'onboarding-activation-nudge',
          channel: 'email',
          subject: 'Need a hand getting started?',
          description: 'email "Need a hand getting started?" (onboarding-activation-nudge) at 6 Mar 09:00 Europe/Berlin',
        },
      ],
      description:
        'Activation nudge (trigger onboarding-activation-nudge v3) due 6 Mar 09:00 Europe/Berlin unless Activated: then email "Need a hand getting started?" (onboarding-activation-nudge) at 6 Mar 09:00 Europe/Berlin',
    },
    {
      timerId: 'a9…',
      kind: 'sla',
      purpose: 'sla',
      dueAt: '2026-03-03T12:00:00.000Z',
      dueLocal: '3 Mar 13:00 Europe/Berlin',
      unless: [],
      then: [],
      description: 'SLA first-response of conversation conv-1 (team support) due 3 Mar 13:00 Europe/Berlin',
    },
  ],
  decisions: [],
};

/** A customer's forward timeline. */
@ApiTags('customers')
@ApiKeyAuth('Not an admin, csm or analyst key')
@Controller('v1/customers')
@Allow('admin', 'csm', 'analyst')
export class UpcomingController {
  constructor(private readonly queryBus: QueryBus) {}

  @Get(':id/upcoming')
  @ApiOperation({
    summary:
      "A customer's forward timeline: the pending timers (trigger waits and entry watches, SLA and snooze timers, stage, segment and broadcast timers), each in words with its due time in the customer's time zone and what would cancel it (\"unless Activated\"), and what the triggers would decide if nothing changes (sends, suppressions, tasks, exits), simulated from the customer's history up to the horizon",
  })
  @ApiQuery({
    name: 'horizon',
    required: false,
    description: `How far to simulate: a duration (30d, 12h, 2w), at most ${MAX_HORIZON_DAYS}d; default ${DEFAULT_HORIZON}`,
  })
  @ApiOkResponse({ schema: { example: EXAMPLE } })
  @ApiBadRequestResponse({ description: 'horizon is not a duration, or longer than a year' })
  @ApiNotFoundResponse({ description: 'No such customer' })
  upcoming(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query('horizon') horizon?: unknown) {
    return this.queryBus.execute(new UpcomingQuery(principal.workspaceId, id, parseHorizon(horizon)));
  }
}
