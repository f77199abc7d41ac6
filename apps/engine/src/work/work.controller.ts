import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import { OrganisationService } from '../conversations/organisation.service';
import { WorkFeed } from './work-feed';
import { actorOf, DEFAULT_LIMIT, inScope, MAX_LIMIT, parseListQuery, parseStreamQuery } from './work-scope';
import { WorkQuery } from './work.query';

/** Milliseconds between the stream's heartbeats (comments that keep proxies from closing an idle connection). */
export const HEARTBEAT_MS = 15_000;
/** What a stream may hold unsent for a slow client before it is ended. */
const MAX_BUFFERED_BYTES = 1 << 20;

const ITEM_EXAMPLE = {
  kind: 'conversation',
  itemId: '5f0c…',
  customerId: 'bob',
  title: 'Invoice question',
  status: 'open',
  priority: 'high',
  assignee: 'ann',
  team: 'support',
  dueAt: '2026-03-02T11:00:00.000Z',
  updatedAt: '2026-03-02T09:12:00.000Z',
  channel: 'email',
  preview: 'Hi, my last invoice shows…',
  lastFrom: 'customer',
  lastMessageId: 'a1b2…',
  waitingOn: 'agent',
  slaBreached: false,
  breaches: [],
  version: 4,
};

const assigneeQuery = ApiQuery({
  name: 'assignee',
  required: false,
  description:
    "me (default for csm keys), a member id (admin, analyst), or none: the unassigned queue of `team`. A csm key sees its own items and its teams' queues. Admin and analyst keys without it: the whole workspace.",
});
const teamQuery = ApiQuery({ name: 'team', required: false, description: 'Only items of this team' });

/**
 * The CSM's work: their open conversations and tasks, what is due first (GET /v1/work), and a Server-Sent Events
 * stream of every change of an item in their queue (GET /v1/work/stream).
 */
@ApiTags('work')
@ApiKeyAuth("Not a csm, admin or analyst key, or a csm asking for another member's work")
@Controller('v1/work')
@Allow('csm', 'admin', 'analyst')
export class WorkController {
  constructor(
    private readonly queryBus: QueryBus,
    private readonly organisation: OrganisationService,
    private readonly feed: WorkFeed,
  ) {}

  @Get()
  @ApiOperation({
    summary: "The caller's open conversations and tasks, what is due first",
    description:
      "Sorted by due time (the earliest pending SLA target, else a task's due time; none last), then priority (urgent, high, normal, low), then the oldest change. Pages: `nextCursor` as `cursor`.",
  })
  @assigneeQuery
  @teamQuery
  @ApiQuery({ name: 'status', required: false, enum: ['open', 'snoozed'], description: 'Default: both' })
  @ApiQuery({ name: 'priority', required: false, enum: ['urgent', 'high', 'normal', 'low'] })
  @ApiQuery({ name: 'kind', required: false, enum: ['conversation', 'task'] })
  @ApiQuery({ name: 'limit', required: false, description: `1 to ${MAX_LIMIT}, default ${DEFAULT_LIMIT}` })
  @ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' })
  @ApiOkResponse({ schema: { example: { items: [ITEM_EXAMPLE], nextCursor: 'MjAyNi0wMy0wMlQxMTowMDowMC4wMDBafDF8…' } } })
  @ApiBadRequestResponse({ description: 'A bad filter, limit or cursor (the message names it)' })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    const { scope, filters, limit, cursor } = parseListQuery(principal, await this.teamsOf(principal), query);
    return this.queryBus.execute(new WorkQuery(principal.workspaceId, scope, filters, limit, cursor));
  }

  @Get('stream')
  @ApiOperation({
    summary: "Server-Sent Events: every change of a conversation or task in the caller's queue",
    description:
      "A csm key: its own items and the unassigned items of its teams. Each change is an `event: work` whose data is { type, kind, itemId, customerId, assignee, team, at, eventId, position, messageId?, preview? } (an internal note's text never); the first event is `ready`; comments every 15 s keep the connection alive. Read GET /v1/work first, then apply the changes.",
  })
  @ApiProduces('text/event-stream')
  @assigneeQuery
  @teamQuery
  @ApiOkResponse({
    description: 'An event stream (text/event-stream)',
    content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events' } } },
  })
  @ApiBadRequestResponse({ description: 'A bad parameter (the message names it)' })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const scope = parseStreamQuery(principal, await this.teamsOf(principal), query);
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    res.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ workspaceId: principal.workspaceId, member: actorOf(principal) })}\n\n`);
    const unlisten = this.feed.listen(principal.workspaceId, (change, before, after) => {
      if (!inScope(scope, before) && !inScope(scope, after)) return;
      // a client that does not read: the stream ends (it reconnects and reads GET /v1/work again) rather than buffer
      if (res.writableLength > MAX_BUFFERED_BYTES) return void res.end();
      res.write(`id: ${change.position}\nevent: work\ndata: ${JSON.stringify(change)}\n\n`);
    });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const close = () => {
      clearInterval(heartbeat);
      unlisten();
    };
    req.on('close', close);
    res.on('close', close);
    res.on('error', close);
  }

  /** The teams of the caller's member (none for keys that are no member's). */
  private async teamsOf(principal: Principal): Promise<string[]> {
    if (principal.role !== 'csm') return [];
    const member = (await this.organisation.load(principal.workspaceId)).members.get(actorOf(principal));
    return member?.teams ?? [];
  }
}
