import { applyDecorators, BadRequestException, Body, Controller, Get, Headers, HttpCode, Param, Post, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPreconditionFailedResponse,
  ApiTags,
} from '@nestjs/swagger';
import { Allow, ApiKeyAuth, CurrentPrincipal } from '../auth/auth.guard';
import type { Principal } from '../auth/key-store';
import type { ConversationChange } from '../conversations/conversations.service';
import {
  ConversationActionCommand,
  conversationView,
  GetConversationQuery,
  ListConversationsQuery,
  StartConversationCommand,
  TaskActionCommand,
  type AgentAction,
} from './conversation.commands';
import {
  AssignDto,
  AssignTaskDto,
  CloseTaskDto,
  CONVERSATION_EXAMPLE,
  MessageDto,
  SnoozeDto,
  StartConversationDto,
} from './conversations.dto';
import { parseIfMatch, setETag, VALIDATED_BODY } from './http';

interface Response {
  setHeader(name: string, value: string): void;
}

const IF_MATCH = ApiHeader({
  name: 'If-Match',
  required: false,
  description: 'The conversation version (its ETag, "<version>") the action is based on; 412 if it changed since',
});

/** Every action answers the conversation after it, with its version as ETag, and refuses the same way. */
const Action = (summary: string, conflict = 'The conversation is resolved: reopen it first') =>
  applyDecorators(
    HttpCode(200),
    ApiOperation({ summary }),
    IF_MATCH,
    ApiOkResponse({ description: 'The conversation after the action (ETag: its version)', schema: { example: CONVERSATION_EXAMPLE } }),
    ApiBadRequestResponse({ description: 'A field is missing or malformed (the message names it)' }),
    ApiNotFoundResponse({ description: 'No such customer or conversation' }),
    ApiConflictResponse({ description: conflict }),
    ApiPreconditionFailedResponse({ description: 'If-Match: the conversation changed since that version' }),
  );

/**
 * The CSM's work on a customer's conversations: read them (the thread with internal notes), start one, reply, add an
 * internal note, assign, snooze, resolve, reopen. admin and csm keys act, as the key's member (`by`; an admin key
 * without one as `key:<id>`); analyst keys read. Answers carry `ETag: "<version>"`; every action honours `If-Match`.
 */
@ApiTags('conversations')
@ApiKeyAuth('Reading needs an admin, csm or analyst key; actions an admin or csm key')
@Controller('v1/customers/:id/conversations')
export class ConversationsController {
  constructor(
    private readonly commandBus: CommandBus,
    private readonly queryBus: QueryBus,
  ) {}

  @Get()
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: "The customer's conversations, newest first (without their threads)" })
  @ApiOkResponse({ schema: { example: { conversations: [{ ...CONVERSATION_EXAMPLE, thread: undefined, messages: 2, notes: 1 }] } } })
  @ApiNotFoundResponse({ description: 'No such customer' })
  async list(@CurrentPrincipal() principal: Principal, @Param('id') customerId: string) {
    return { conversations: await this.queryBus.execute(new ListConversationsQuery(principal.workspaceId, customerId)) };
  }

  @Post()
  @Allow('admin', 'csm')
  @ApiOperation({ summary: 'Start a conversation: an agent writes to the customer first (in-app inbox or email)' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'The same key again answers the conversation it started (200) instead of starting another',
  })
  @ApiBody({ type: StartConversationDto })
  @ApiCreatedResponse({ description: 'Started (ETag: its version)', schema: { example: CONVERSATION_EXAMPLE } })
  @ApiOkResponse({ description: 'Started before with this Idempotency-Key' })
  @ApiBadRequestResponse({ description: 'A field is missing or malformed; email to a customer without an email trait' })
  @ApiNotFoundResponse({ description: 'No such customer' })
  async start(
    @CurrentPrincipal() principal: Principal,
    @Param('id') customerId: string,
    @Body(VALIDATED_BODY) body: StartConversationDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) res: Response & { status(code: number): unknown },
  ) {
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 200))
      throw new BadRequestException('Idempotency-Key: 1 to 200 characters');
    const { change, created } = await this.commandBus.execute(
      new StartConversationCommand(
        principal,
        customerId,
        { body: body.body, channel: body.channel ?? 'inbox', ...(body.subject !== undefined && { subject: body.subject }) },
        idempotencyKey,
      ),
    );
    if (!created) res.status(200);
    return this.answer(res, customerId, change);
  }

  @Get(':conversationId')
  @Allow('admin', 'csm', 'analyst')
  @ApiOperation({ summary: 'A conversation: its state and thread, internal notes included' })
  @ApiOkResponse({ description: 'ETag: its version', schema: { example: CONVERSATION_EXAMPLE } })
  @ApiNotFoundResponse({ description: 'No such customer or conversation' })
  async get(
    @CurrentPrincipal() principal: Principal,
    @Param('id') customerId: string,
    @Param('conversationId') conversationId: string,
    @Res({ passthrough: true }) res: Response,
  ) {
    const conversation = await this.queryBus.execute(new GetConversationQuery(principal.workspaceId, customerId, conversationId));
    return this.answer(res, customerId, { conversation, written: 0 });
  }

  @Post(':conversationId/replies')
  @Allow('admin', 'csm')
  @Action('Reply to the customer (assigns the conversation to you when nobody holds it)')
  @ApiBody({ type: MessageDto })
  reply(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('conversationId') c: string,
    @Body(VALIDATED_BODY) body: MessageDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(p, id, c, { type: 'Reply', body: body.body }, ifMatch, res);
  }

  @Post(':conversationId/notes')
  @Allow('admin', 'csm')
  @Action('Add an internal note (colleagues only, never shown to the customer)', 'A concurrent change won; read again and retry')
  @ApiBody({ type: MessageDto })
  note(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('conversationId') c: string,
    @Body(VALIDATED_BODY) body: MessageDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(p, id, c, { type: 'AddNote', body: body.body }, ifMatch, res);
  }

  @Post(':conversationId/assign')
  @Allow('admin', 'csm')
  @Action('Assign to a member and/or a team (its queue), or change the priority')
  @ApiBody({ type: AssignDto })
  assign(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('conversationId') c: string,
    @Body(VALIDATED_BODY) body: AssignDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    const action: AgentAction = {
      type: 'Assign',
      ...(body.assignee !== undefined && { assignee: body.assignee }),
      ...(body.team !== undefined && { team: body.team }),
      ...(body.priority !== undefined && { priority: body.priority }),
    };
    return this.act(p, id, c, action, ifMatch, res);
  }

  @Post(':conversationId/snooze')
  @Allow('admin', 'csm')
  @Action('Snooze until a time: it comes back open then (or when the customer writes)')
  @ApiBody({ type: SnoozeDto })
  snooze(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('conversationId') c: string,
    @Body(VALIDATED_BODY) body: SnoozeDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(p, id, c, { type: 'Snooze', until: body.until }, ifMatch, res);
  }

  @Post(':conversationId/resolve')
  @Allow('admin', 'csm')
  @Action('Resolve (resolving a resolved conversation changes nothing)', 'A concurrent change won; read again and retry')
  resolve(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('conversationId') c: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(p, id, c, { type: 'Resolve' }, ifMatch, res);
  }

  @Post(':conversationId/reopen')
  @Allow('admin', 'csm')
  @Action('Reopen a resolved or snoozed conversation (an open one stays as it is)', 'A concurrent change won; read again and retry')
  reopen(
    @CurrentPrincipal() p: Principal,
    @Param('id') id: string,
    @Param('conversationId') c: string,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ) {
    return this.act(p, id, c, { type: 'Reopen' }, ifMatch, res);
  }

  private async act(
    principal: Principal,
    customerId: string,
    conversationId: string,
    action: AgentAction,
    ifMatch: string | undefined,
    res: Response,
  ) {
    const change = await this.commandBus.execute(
      new ConversationActionCommand(principal, customerId, conversationId, action, parseIfMatch(ifMatch, 'conversation version')),
    );
    return this.answer(res, customerId, change);
  }

  private answer(res: Response, customerId: string, change: ConversationChange) {
    setETag(res, change.conversation.version);
    return conversationView(customerId, change.conversation);
  }
}

/** CSM tasks (opened by a trigger's `task` step): assign to a member, close with an outcome. admin and csm keys. */
@ApiTags('conversations')
@ApiKeyAuth('Not an admin or csm key')
@Controller('v1/customers/:id/tasks/:taskId')
@Allow('admin', 'csm')
export class TasksController {
  constructor(private readonly commandBus: CommandBus) {}

  @Post('assign')
  @HttpCode(204)
  @ApiOperation({ summary: 'Give an open task to a member' })
  @ApiBody({ type: AssignTaskDto })
  @ApiNoContentResponse({ description: 'Assigned (or it was theirs already)' })
  @ApiBadRequestResponse({ description: 'The assignee is no member of the workspace' })
  @ApiNotFoundResponse({ description: 'No such open task of the customer' })
  async assign(
    @CurrentPrincipal() principal: Principal,
    @Param('id') customerId: string,
    @Param('taskId') taskId: string,
    @Body(VALIDATED_BODY) body: AssignTaskDto,
  ): Promise<void> {
    await this.commandBus.execute(new TaskActionCommand(principal, customerId, taskId, { type: 'AssignTask', assignee: body.assignee }));
  }

  @Post('close')
  @HttpCode(204)
  @ApiOperation({ summary: 'Close an open task with its outcome (what came of it)' })
  @ApiBody({ type: CloseTaskDto })
  @ApiNoContentResponse({ description: 'Closed' })
  @ApiNotFoundResponse({ description: 'No such open task of the customer (closed already, or never opened)' })
  async close(
    @CurrentPrincipal() principal: Principal,
    @Param('id') customerId: string,
    @Param('taskId') taskId: string,
    @Body(VALIDATED_BODY) body: CloseTaskDto,
  ): Promise<void> {
    await this.commandBus.execute(new TaskActionCommand(principal, customerId, taskId, { type: 'CloseTask', outcome: body.outcome }));
  }
}
