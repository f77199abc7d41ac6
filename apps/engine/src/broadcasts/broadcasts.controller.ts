import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { BroadcastDetailDto, BroadcastErrorDto, BroadcastListDto, BroadcastRequestDto } from './broadcasts.dto';
import { CancelBroadcastCommand, GetBroadcastQuery, ListBroadcastsQuery, ScheduleBroadcastCommand } from './broadcast.commands';

/**
 * Broadcasts: a one-off send to a segment, now, at an instant or at a local time in each customer's zone, through the
 * trigger guards (consent, frequency caps, quiet hours). csm and admin keys create and cancel; analysts read.
 */
@ApiTags('broadcasts')
@ApiKeyAuth()
@Controller('v1/broadcasts')
export class BroadcastsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Post()
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'Schedule a broadcast to a segment: now, at an instant (`at`) or at a local time (`localTime`)' })
  @ApiBody({ type: BroadcastRequestDto })
  @ApiCreatedResponse({ type: BroadcastDetailDto })
  @ApiBadRequestResponse({
    type: BroadcastErrorDto,
    description: 'Unknown segment, bad channel, bad template, bad guards, a time in the past: every error as `path: what is wrong`',
  })
  @ApiConflictResponse({ description: 'A broadcast with this id exists' })
  async create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.commandBus.execute(new ScheduleBroadcastCommand(principal, body));
  }

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "The workspace's broadcasts, newest first, with the fan-out's counts" })
  @ApiOkResponse({ type: BroadcastListDto })
  async list(@CurrentPrincipal() principal: Principal) {
    return this.queryBus.execute(new ListBroadcastsQuery(principal.workspaceId));
  }

  @Get(':id')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({
    summary:
      'A broadcast: its status and analytics (targeted, pending, scheduled, suppressed by reason, sent, delivered, failed, opened, clicked)',
  })
  @ApiOkResponse({ type: BroadcastDetailDto })
  @ApiNotFoundResponse({ description: 'Unknown broadcast' })
  async get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.queryBus.execute(new GetBroadcastQuery(principal.workspaceId, id));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Allow('admin', 'csm')
  @ApiOperation({
    summary:
      "Cancel a broadcast before it is due: no more messages (a local-time one: until its time has come in every zone; members' pending timers end suppressed `broadcast-cancelled`)",
  })
  @ApiOkResponse({ type: BroadcastDetailDto })
  @ApiNotFoundResponse({ description: 'Unknown broadcast' })
  @ApiConflictResponse({ description: 'Already completed (its messages are sent) or cancelled' })
  async cancel(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.commandBus.execute(new CancelBroadcastCommand(principal, id));
  }
}
