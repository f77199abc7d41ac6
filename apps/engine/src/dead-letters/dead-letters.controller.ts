import { ConflictException, Controller, Get, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, listDeadLetters, requestDeadLetterRetry, type EventStore } from '@journey/event-store';
import { Allow, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';

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
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  @Get()
  @ApiOperation({ summary: "The workspace's dead letters: subscriber, event, reason and error, when, and status (quarantined, retrying, resolved)" })
  async list(@CurrentPrincipal() principal: Principal) {
    return { deadLetters: await listDeadLetters(this.store, principal.workspaceId) };
  }

  @Post(':id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Run a dead letter\'s event through its subscriber again (asynchronously): resolved on success, quarantined again on failure' })
  async retry(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const letter = (await listDeadLetters(this.store, principal.workspaceId)).find((l) => l.id === id);
    if (!letter) throw new NotFoundException(`no dead letter "${id}" in this workspace (GET /v1/admin/dead-letters lists them)`);
    if (letter.status === 'resolved') throw new ConflictException(`dead letter "${id}" is already resolved`);
    return requestDeadLetterRetry(this.store, principal.workspaceId, id, `admin`);
  }
}
