import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { ListDeadLettersQuery } from './list-dead-letters.query';
import { RetryDeadLetterCommand } from './retry-dead-letter.command';

/**
 * Dead letters: events a subscriber (projections, a reactor, the timers, the dispatcher, the relay) quarantined instead
 * of stopping on them. Read from the workspace's dead-letter stream in the log, so they are the same whichever thread or
 * process quarantined them; a retry is a request in the log that the owning subscriber picks up.
 */
@ApiTags('admin')
@ApiBearerAuth('key')
@Controller('v1/admin/dead-letters')
@Allow('admin')
export class DeadLettersController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  @ApiOperation({
    summary: "The workspace's dead letters: subscriber, event, reason and error, when, and status (quarantined, retrying, resolved)",
  })
  list(@CurrentPrincipal() principal: Principal) {
    return this.queryBus.execute(new ListDeadLettersQuery(principal.workspaceId));
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({
    summary: "Run a dead letter's event through its subscriber again (asynchronously): resolved on success, quarantined again on failure",
  })
  retry(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.commandBus.execute(new RetryDeadLetterCommand(principal.workspaceId, id));
  }
}
