import type { IncomingMessage, ServerResponse } from 'node:http';
import { BadRequestException, Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Principal } from '../auth/api-keys';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import { EventFeed, type FeedItem } from './event-feed';

/** Who a key is: the console signs in with it and shows what the role may do. */
@ApiTags('console')
@ApiKeyAuth()
@Controller('v1/session')
export class SessionController {
  @Get()
  @Allow('admin', 'csm', 'analyst', 'write')
  @ApiOperation({
    summary: "The calling key's workspace, role and member",
    description: 'What the console signs in with: an admin manages keys, teams and settings; a csm works; an analyst reads.',
  })
  @ApiOkResponse({ schema: { example: { workspaceId: 'default', role: 'csm', keyId: 'k_3f9a', memberId: 'ann' } } })
  session(@CurrentPrincipal() principal: Principal) {
    const { workspaceId, role, keyId, memberId } = principal;
    return { workspaceId, role, keyId, ...(memberId === undefined ? {} : { memberId }) };
  }
}

/** Beyond this many unsent bytes a stream's client is not reading: the stream ends (it reconnects and refetches). */
const MAX_BUFFERED_BYTES = 1 << 20;
const HEARTBEAT_MS = 15_000;
const MAX_FILTER_LENGTH = 200;

/** The stream's filters, each optional; a bad one is a 400 naming it. */
export function parseFeedQuery(query: Record<string, unknown>): { customerId?: string; triggerId?: string; types?: Set<string> } {
  const one = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new BadRequestException(`${name}: give it once`);
    if (v.length > MAX_FILTER_LENGTH) throw new BadRequestException(`${name}: at most ${MAX_FILTER_LENGTH} characters`);
    return v;
  };
  const types = one('types');
  if (types !== undefined && !/^[A-Za-z][\w]*(,[A-Za-z][\w]*)*$/.test(types))
    throw new BadRequestException('types: a comma-separated list of event types, e.g. MessageSent,MessageOpened');
  return {
    customerId: one('customerId'),
    triggerId: one('triggerId'),
    ...(types === undefined ? {} : { types: new Set(types.split(',')) }),
  };
}

@ApiTags('console')
@ApiKeyAuth()
@Controller('v1/events')
export class LiveEventsController {
  constructor(private readonly feed: EventFeed) {}

  @Get('stream')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({
    summary: "Server-Sent Events: the workspace's customer events as they are stored",
    description:
      "What the console refreshes its live pages by. Each stored event is an `event: event` whose data is { eventId, type, customerId, occurredAt, position, triggerId?, name? (a tracked event's name) } (never the event data); the first event is `ready`; comments every 15 s keep the connection alive. Filters: `customerId` (one customer), `triggerId` (run and message events of one trigger), `types` (comma-separated). It starts at the log head: read the page over HTTP first, then refetch on changes.",
  })
  @ApiProduces('text/event-stream')
  @ApiQuery({ name: 'customerId', required: false })
  @ApiQuery({ name: 'triggerId', required: false })
  @ApiQuery({ name: 'types', required: false, description: 'e.g. MessageSent,MessageOpened' })
  @ApiOkResponse({
    description: 'An event stream (text/event-stream)',
    content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events' } } },
  })
  @ApiBadRequestResponse({ description: 'A bad filter (the message names it)' })
  async stream(
    @CurrentPrincipal() principal: Principal,
    @Query() query: Record<string, unknown>,
    @Req() req: IncomingMessage,
    @Res() res: ServerResponse,
  ): Promise<void> {
    const filter = parseFeedQuery(query);
    res.statusCode = 200;
    res.setHeader('content-type', 'text/event-stream; charset=utf-8');
    res.setHeader('cache-control', 'no-cache, no-transform');
    res.setHeader('connection', 'keep-alive');
    res.setHeader('x-accel-buffering', 'no');
    res.flushHeaders();
    const connection: { closed: boolean; unlisten?: () => void } = { closed: false };
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    const close = () => {
      connection.closed = true;
      clearInterval(heartbeat);
      connection.unlisten?.();
    };
    req.on('close', close);
    const listener = Object.assign(
      (item: FeedItem) => {
        if (filter.customerId !== undefined && item.customerId !== filter.customerId) return;
        if (filter.triggerId !== undefined && item.triggerId !== filter.triggerId) return;
        if (filter.types && !filter.types.has(item.type)) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) return void res.end();
        res.write(`id: ${item.position}\nevent: event\ndata: ${JSON.stringify(item)}\n\n`);
      },
      { end: () => res.end() },
    );
    const stop = await this.feed.listen(principal.workspaceId, listener);
    if (connection.closed) return stop(); // the client left while the feed started
    connection.unlisten = stop;
    res.write(`retry: 2000\nevent: ready\ndata: ${JSON.stringify({ workspaceId: principal.workspaceId })}\n\n`);
  }
}
