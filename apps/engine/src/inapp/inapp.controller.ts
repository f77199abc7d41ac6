import { BadRequestException, Body, Controller, Get, HttpCode, Param, Post, Req, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Allow } from '../auth/auth.guard';
import { OpenInboxMessageCommand } from '../messaging/open-inbox-message.command';
import { ClientStreams, type StreamSink } from './client-streams';
import { ApiCustomerToken, CurrentCustomer, InAppGuard, TokenInQuery, type InAppCustomer } from './inapp.guard';
import { InAppService, validRating, validWrite } from './inapp.service';

interface StreamRequest {
  headers: Record<string, string | string[] | undefined>;
  on(event: 'close', listener: () => void): unknown;
}
interface StreamResponse extends StreamSink {
  status(code: number): StreamResponse;
  setHeader(name: string, value: string): void;
  flushHeaders(): void;
  json(body: unknown): void;
  socket?: { setNoDelay(noDelay: boolean): void } | null;
}

const INBOX_EXAMPLE = {
  customerId: 'user-1',
  messages: [{ messageId: 'msg-1', subject: 'Welcome', body: 'Hi Ann', deliveredAt: '2026-01-01T00:00:00.000Z', opened: false }],
  conversations: [
    {
      conversationId: 'c-1',
      status: 'open',
      channel: 'inbox',
      inReplyTo: 'msg-1',
      startedAt: '2026-01-01T00:01:00.000Z',
      messages: [
        {
          messageId: 'm-1',
          from: 'customer',
          body: 'How do I invite my team?',
          at: '2026-01-01T00:01:00.000Z',
          clientMessageId: 'local-1',
        },
        { messageId: 'm-2', from: 'agent', body: 'Settings → Team', at: '2026-01-01T00:05:00.000Z', agent: 'Ann' },
      ],
    },
  ],
};

/**
 * The in-app API for the customer's own client (a browser or a mobile app): its inbox and conversations, its replies,
 * ratings, and a live stream. No server key: a customer token (InAppGuard) authenticates the customer, and CORS
 * answers the workspace's `inApp.allowedOrigins` only (auth/cors.ts).
 */
@ApiTags('in-app client')
@ApiCustomerToken()
@ApiParam({ name: 'workspaceId', description: 'The workspace the customer belongs to' })
@Controller('v1/client/:workspaceId')
@Allow()
@UseGuards(InAppGuard)
export class InAppController {
  constructor(
    private readonly inApp: InAppService,
    private readonly streams: ClientStreams,
    private readonly commandBus: CommandBus,
  ) {}

  @Get('inbox')
  @ApiOperation({
    summary: "The customer's delivered inbox messages (newest first) and conversations (latest first), as the customer sees them",
  })
  @ApiOkResponse({ schema: { example: INBOX_EXAMPLE } })
  inbox(@CurrentCustomer() customer: InAppCustomer) {
    return this.inApp.inbox(customer);
  }

  @Post('inbox/:messageId/read')
  @HttpCode(200)
  @ApiOperation({ summary: 'Mark an inbox message read (recorded as MessageOpened; the first one counts)' })
  @ApiOkResponse({ schema: { example: { success: true } } })
  @ApiNotFoundResponse({ description: "No delivered inbox message with this id in the customer's inbox" })
  read(@CurrentCustomer() { workspaceId, customerId }: InAppCustomer, @Param('messageId') messageId: string): Promise<{ success: true }> {
    return this.commandBus.execute(new OpenInboxMessageCommand(workspaceId, customerId, messageId));
  }

  @Post('conversations')
  @ApiOperation({
    summary:
      'The customer writes: into the conversation named, the one holding the message answered (inReplyTo), the latest open in-app one, or a new one. A clientMessageId is recorded once.',
  })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['body'],
      properties: {
        body: { type: 'string', example: 'How do I invite my team?' },
        conversationId: { type: 'string', description: 'An existing conversation of the customer' },
        inReplyTo: { type: 'string', description: 'The messageId of an inbox message (or a message of a conversation) it answers' },
        clientMessageId: { type: 'string', description: "The client's id of the message: a retried post is recorded once" },
      },
    },
  })
  @ApiCreatedResponse({ description: 'Recorded', schema: { example: { conversationId: 'c-1', messageId: 'm-1', duplicate: false } } })
  @ApiOkResponse({
    description: 'This clientMessageId was recorded before: nothing new',
    schema: { example: { conversationId: 'c-1', messageId: 'm-1', duplicate: true } },
  })
  @ApiBadRequestResponse({ description: 'A missing or malformed field (the message names it)' })
  @ApiNotFoundResponse({ description: 'conversationId or inReplyTo names nothing of this customer' })
  async write(
    @CurrentCustomer() customer: InAppCustomer,
    @Body() body: unknown,
    @Res({ passthrough: true }) res: { status(code: number): unknown },
  ) {
    const written = await this.inApp.write(customer, validWrite(body));
    res.status(written.duplicate ? 200 : 201);
    return written;
  }

  @Post('conversations/:conversationId/rating')
  @ApiOperation({ summary: 'Rate a resolved conversation (CSAT: score 1 to 5, optional comment)' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['score'],
      properties: { score: { type: 'integer', minimum: 1, maximum: 5 }, comment: { type: 'string' } },
    },
  })
  @ApiCreatedResponse({ schema: { example: { conversationId: 'c-1', rating: { score: 5, comment: 'Quick and kind' } } } })
  @ApiBadRequestResponse({ description: 'A score that is not an integer from 1 to 5, or a bad comment' })
  @ApiNotFoundResponse({ description: 'The customer has no such conversation' })
  @ApiConflictResponse({ description: 'The conversation is not resolved' })
  rate(@CurrentCustomer() customer: InAppCustomer, @Param('conversationId') conversationId: string, @Body() body: unknown) {
    return this.inApp.rate(customer, conversationId, validRating(body));
  }

  @Get('stream')
  @TokenInQuery()
  @ApiOperation({
    summary:
      "Server-Sent Events for the customer: AgentReplied, ConversationResolved, ConversationReopened and new inbox MessageDelivered; `id` is the event's position (Last-Event-ID resumes). Also ?customerId=&token= (EventSource cannot set headers).",
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'An event stream (a heartbeat comment every 15 s)',
    content: { 'text/event-stream': { schema: { type: 'string', description: 'Server-Sent Events' } } },
  })
  @ApiBadRequestResponse({ description: 'Last-Event-ID is not an event id of this stream' })
  @ApiTooManyRequestsResponse({ description: 'The customer has 10 streams open already' })
  async stream(@CurrentCustomer() customer: InAppCustomer, @Req() req: StreamRequest, @Res() res: StreamResponse): Promise<void> {
    const last = req.headers['last-event-id'];
    let lastEventId: bigint | undefined;
    if (typeof last === 'string' && last !== '') {
      if (!/^\d{1,20}$/.test(last))
        throw new BadRequestException(`Last-Event-ID: must be an event id of this stream (digits), got ${JSON.stringify(last)}`);
      lastEventId = BigInt(last);
    }
    this.streams.admit(customer);
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no'); // nginx: do not buffer the stream
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    await this.streams.serve(
      customer,
      { write: (c) => res.write(c), end: () => res.end(), on: (_, fn) => req.on('close', fn) },
      lastEventId,
    );
  }
}
