import { randomUUID } from 'node:crypto';
import { BadRequestException, NotFoundException } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  deterministicId,
  type ConversationCommand,
  type ConversationState,
  type OrganisationState,
  type TaskPriority,
} from '@journey/domain';
import { actorOf, type Principal } from '../auth/api-keys';
import { ConversationsService, type ConversationChange } from '../conversations/conversations.service';
import { OrganisationService } from '../conversations/organisation.service';

/** A conversation as the API shows it: its state (thread with internal notes), for its customer. */
export type ConversationView = Omit<ConversationState, 'exists'> & { customerId: string };

export const conversationView = (customerId: string, c: ConversationState): ConversationView => {
  const { exists: _exists, ...rest } = c;
  return { customerId, ...rest };
};

/** What a list shows of a conversation: everything but the thread, with its size and last message. */
export function conversationSummary(customerId: string, c: ConversationState) {
  const { exists: _exists, thread, ...rest } = c;
  const messages = thread.filter((t) => t.from !== 'note');
  return {
    customerId,
    ...rest,
    messages: messages.length,
    notes: thread.length - messages.length,
    lastMessageAt: messages.at(-1)?.at ?? null,
  };
}

/** What an agent does to a conversation (the decider's commands that a person gives, `by` filled in from the key). */
export type AgentAction =
  | { type: 'Reply'; body: string }
  | { type: 'AddNote'; body: string }
  | { type: 'Assign'; assignee?: string | null; team?: string; priority?: TaskPriority }
  | { type: 'Snooze'; until: string }
  | { type: 'Resolve' }
  | { type: 'Reopen' };

const unknownMember = (org: OrganisationState, memberId: string, workspaceId: string) =>
  new BadRequestException(
    `assignee: no member "${memberId}" in workspace "${workspaceId}" (members: ${[...org.members.keys()].sort().join(', ') || 'none yet'})`,
  );

/**
 * An agent's action on a conversation, recorded as the key's member (or `key:<id>`); `ifMatch`: the conversation
 * version the agent saw (412 on another).
 */
export class ConversationActionCommand extends Command<ConversationChange> {
  constructor(
    readonly principal: Principal,
    readonly customerId: string,
    readonly conversationId: string,
    readonly action: AgentAction,
    readonly ifMatch?: number,
  ) {
    super();
  }
}

@CommandHandler(ConversationActionCommand)
export class ConversationActionHandler implements ICommandHandler<ConversationActionCommand> {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly organisation: OrganisationService,
  ) {}

  async execute({ principal, customerId, conversationId, action, ifMatch }: ConversationActionCommand): Promise<ConversationChange> {
    const ws = principal.workspaceId;
    const by = actorOf(principal);
    let command: ConversationCommand;
    if (action.type === 'Assign') command = await this.assignment(ws, customerId, conversationId, action, by);
    else if (action.type === 'Reopen') command = { type: 'Reopen', by, reason: 'manual' };
    else command = { ...action, by };
    return this.conversations.act(ws, customerId, conversationId, command, {
      source: 'http',
      ...(ifMatch !== undefined && { ifMatch }),
    });
  }

  /**
   * The Assign command of a request: the assignee must be a member and the team a team of the workspace (400). The
   * current assignee stays unless the request names another, `null`, or another team; without an assignee it goes to
   * the team's queue (`queued`: the assignment reactor gives it to the owner or the least loaded member).
   */
  private async assignment(
    ws: string,
    customerId: string,
    conversationId: string,
    action: Extract<AgentAction, { type: 'Assign' }>,
    by: string,
  ): Promise<ConversationCommand> {
    if (action.assignee === undefined && action.team === undefined && action.priority === undefined)
      throw new BadRequestException('body: give assignee (a member, or null), team or priority');
    const org = await this.organisation.load(ws);
    if (typeof action.assignee === 'string' && !org.members.has(action.assignee)) throw unknownMember(org, action.assignee, ws);
    if (action.team !== undefined && !org.teams.has(action.team))
      throw new BadRequestException(
        `team: no team "${action.team}" in workspace "${ws}" (teams: ${[...org.teams.keys()].sort().join(', ') || 'none yet'})`,
      );
    const current = await this.conversations.get(ws, customerId, conversationId);
    const teamChanges = action.team !== undefined && action.team !== current.team;
    const assignee = action.assignee === null ? undefined : (action.assignee ?? (teamChanges ? undefined : current.assignee));
    const team = action.team ?? current.team;
    if (assignee === undefined && team === undefined)
      throw new BadRequestException('assignee: to take it off a person, name the team whose queue it goes to (team)');
    return {
      type: 'Assign',
      ...(team !== undefined && { team }),
      ...(assignee !== undefined && { assignee }),
      ...(action.priority !== undefined && { priority: action.priority }),
      by,
      reason: assignee === undefined ? 'queued' : 'manual',
    };
  }
}

/**
 * An agent starts a conversation with the customer (their first message, by inbox or email). With an
 * `idempotencyKey` the conversation's id derives from it: the same request again answers the same conversation.
 */
export class StartConversationCommand extends Command<{ change: ConversationChange; created: boolean }> {
  constructor(
    readonly principal: Principal,
    readonly customerId: string,
    readonly message: { body: string; channel: 'inbox' | 'email'; subject?: string },
    readonly idempotencyKey?: string,
  ) {
    super();
  }
}

@CommandHandler(StartConversationCommand)
export class StartConversationHandler implements ICommandHandler<StartConversationCommand> {
  constructor(private readonly conversations: ConversationsService) {}

  async execute({ principal, customerId, message, idempotencyKey }: StartConversationCommand) {
    const ws = principal.workspaceId;
    const { events, conversations, customer } = await this.conversations.load(ws, customerId);
    if (events.length === 0 || customer.forgotten) throw new NotFoundException(`customer "${customerId}" not found`);
    if (message.channel === 'email' && typeof customer.traits.email !== 'string')
      throw new BadRequestException(`channel: customer "${customerId}" has no email trait to write to; use channel "inbox"`);
    const id = idempotencyKey !== undefined ? deterministicId('agent-conversation', ws, customerId, idempotencyKey) : randomUUID();
    const existing = conversations.get(id);
    if (existing) return { change: { conversation: existing, written: 0 }, created: false };
    const change = await this.conversations.act(
      ws,
      customerId,
      id,
      {
        type: 'Start',
        body: message.body,
        channel: message.channel,
        by: actorOf(principal),
        ...(message.subject !== undefined && { subject: message.subject }),
      },
      { source: 'http' },
    );
    return { change, created: true };
  }
}

/** Assign or close an open CSM task of the customer (the assignee must be a member: 400). */
export class TaskActionCommand extends Command<{ written: number }> {
  constructor(
    readonly principal: Principal,
    readonly customerId: string,
    readonly taskId: string,
    readonly action: { type: 'AssignTask'; assignee: string } | { type: 'CloseTask'; outcome: string },
  ) {
    super();
  }
}

@CommandHandler(TaskActionCommand)
export class TaskActionHandler implements ICommandHandler<TaskActionCommand> {
  constructor(
    private readonly conversations: ConversationsService,
    private readonly organisation: OrganisationService,
  ) {}

  async execute({ principal, customerId, taskId, action }: TaskActionCommand) {
    const ws = principal.workspaceId;
    if (action.type === 'AssignTask') {
      const org = await this.organisation.load(ws);
      if (!org.members.has(action.assignee)) throw unknownMember(org, action.assignee, ws);
    }
    return this.conversations.task(ws, customerId, taskId, { ...action, by: actorOf(principal) }, 'http');
  }
}

/** The customer's conversations, newest first (404: no such customer). */
export class ListConversationsQuery extends Query<ReturnType<typeof conversationSummary>[]> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
  ) {
    super();
  }
}

@QueryHandler(ListConversationsQuery)
export class ListConversationsHandler implements IQueryHandler<ListConversationsQuery> {
  constructor(private readonly conversations: ConversationsService) {}

  async execute({ workspaceId, customerId }: ListConversationsQuery) {
    const { events, conversations } = await this.conversations.load(workspaceId, customerId);
    if (events.length === 0) throw new NotFoundException(`customer "${customerId}" not found`);
    // the map is in the order they started; newest first
    return [...conversations.values()]
      .filter((c) => c.exists)
      .reverse()
      .map((c) => conversationSummary(customerId, c));
  }
}

export class GetConversationQuery extends Query<ConversationState> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
    readonly conversationId: string,
  ) {
    super();
  }
}

@QueryHandler(GetConversationQuery)
export class GetConversationHandler implements IQueryHandler<GetConversationQuery> {
  constructor(private readonly conversations: ConversationsService) {}

  execute({ workspaceId, customerId, conversationId }: GetConversationQuery): Promise<ConversationState> {
    return this.conversations.get(workspaceId, customerId, conversationId);
  }
}
