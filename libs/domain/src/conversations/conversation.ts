/**
 * A conversation as an event-sourced process on the customer's stream: `decideConversation(command, state, ctx)`
 * returns its events, `evolveConversation(state, event)` folds them. `conversationsFromStream` folds every
 * conversation of a customer; `routeCustomerMessage` says which one an inbound message belongs to. Pure.
 */
import { envelope } from '../envelope';
import { typed, type EventDataByType, type JourneyEvent, type TypedEvent } from '../events';
import { deterministicId } from '../ids';
import { TASK_PRIORITIES, type TaskPriority } from '../triggers/schema';
import type { AssignmentReason, ConversationChannel } from './types';

export const CONVERSATION_EVENT_TYPES = [
  'ConversationStarted',
  'CustomerReplied',
  'AgentReplied',
  'InternalNoteAdded',
  'ConversationAssigned',
  'ConversationTagged',
  'ConversationSnoozed',
  'ConversationResolved',
  'ConversationReopened',
  'SatisfactionRated',
] as const;
export type ConversationEventType = (typeof CONVERSATION_EVENT_TYPES)[number];
export type ConversationEvent = TypedEvent<ConversationEventType>;
const CONVERSATION_TYPES: ReadonlySet<string> = new Set(CONVERSATION_EVENT_TYPES);

export const isConversationEvent = (e: JourneyEvent): e is ConversationEvent => CONVERSATION_TYPES.has(e.type);

export type ConversationStatus = 'open' | 'snoozed' | 'resolved';

/** One entry of the thread: what the customer wrote, what an agent (or automation) answered, an internal note. */
export interface ThreadEntry {
  messageId: string;
  from: 'customer' | 'agent' | 'note';
  body: string;
  at: string;
  channel?: ConversationChannel;
  by?: string;
  automated?: boolean;
  providerId?: string;
  sentiment?: number;
}

export interface ConversationState {
  conversationId: string;
  /** False until ConversationStarted. */
  exists: boolean;
  status: ConversationStatus;
  channel: ConversationChannel;
  subject?: string;
  inReplyTo?: string;
  team?: string;
  assignee?: string;
  priority: TaskPriority;
  /** Handed to a team or a member: automation does not answer until it is resolved. */
  held: boolean;
  tags: string[];
  startedAt?: string;
  /** The member who started it (an agent-initiated, outbound conversation); absent when the customer wrote first. */
  startedBy?: string;
  /** The first agent reply (person or automation) after the conversation started. */
  firstResponseAt?: string;
  /** Whether a person has answered or acted in it since it started (automation rate). */
  personInvolved: boolean;
  resolvedAt?: string;
  resolvedBy?: string;
  snoozedUntil?: string;
  /** Who is waiting: the customer wrote last (`agent` must answer) or an agent did. */
  waitingOn: 'agent' | 'customer';
  lastCustomerAt?: string;
  thread: ThreadEntry[];
  rating?: { score: number; comment?: string };
  /** How many times it was reopened. */
  reopened: number;
  /** The number of its events: the `If-Match` version and the seed of the ids of its next events. */
  version: number;
}

export function initialConversationState(conversationId: string): ConversationState {
  return {
    conversationId,
    exists: false,
    status: 'open',
    channel: 'inbox',
    priority: 'normal',
    held: false,
    tags: [],
    personInvolved: false,
    waitingOn: 'agent',
    thread: [],
    reopened: 0,
    version: 0,
  };
}

export function evolveConversation(state: ConversationState, event: JourneyEvent): ConversationState {
  if (!isConversationEvent(event) || event.data.conversationId !== state.conversationId) return state;
  const e = typed(event) as ConversationEvent;
  const at = e.metadata.occurredAt;
  const s: ConversationState = { ...state, version: state.version + 1 };
  switch (e.type) {
    case 'ConversationStarted':
      return {
        ...s,
        exists: true,
        status: 'open',
        channel: e.data.channel,
        ...(e.data.subject !== undefined && { subject: e.data.subject }),
        ...(e.data.inReplyTo !== undefined && { inReplyTo: e.data.inReplyTo }),
        ...(e.data.by !== undefined && { startedBy: e.data.by }),
        startedAt: at,
      };
    case 'CustomerReplied':
      return {
        ...s,
        waitingOn: 'agent',
        lastCustomerAt: at,
        thread: [
          ...s.thread,
          {
            messageId: e.data.messageId,
            from: 'customer',
            body: e.data.body,
            at,
            channel: e.data.channel,
            ...(e.data.providerId !== undefined && { providerId: e.data.providerId }),
            ...(e.data.sentiment !== undefined && { sentiment: e.data.sentiment }),
          },
        ],
      };
    case 'AgentReplied':
      return {
        ...s,
        waitingOn: 'customer',
        // a response answers the customer: in a conversation an agent started, the first reply after the customer's
        firstResponseAt: s.firstResponseAt ?? (s.lastCustomerAt !== undefined ? at : undefined),
        personInvolved: s.personInvolved || e.data.by !== undefined,
        thread: [
          ...s.thread,
          {
            messageId: e.data.messageId,
            from: 'agent',
            body: e.data.body,
            at,
            channel: e.data.channel,
            ...(e.data.by !== undefined && { by: e.data.by }),
            ...(e.data.automated && { automated: true }),
          },
        ],
      };
    case 'InternalNoteAdded':
      return {
        ...s,
        personInvolved: true,
        thread: [...s.thread, { messageId: e.data.noteId, from: 'note', body: e.data.body, at, by: e.data.by }],
      };
    case 'ConversationAssigned': {
      const { team, assignee, priority } = e.data;
      return {
        ...s,
        held: true,
        priority,
        personInvolved: s.personInvolved || e.data.by !== undefined,
        ...(team !== undefined ? { team } : {}),
        assignee,
      };
    }
    case 'ConversationTagged':
      return { ...s, tags: [...new Set([...s.tags, ...e.data.tags])] };
    case 'ConversationSnoozed':
      return { ...s, status: 'snoozed', snoozedUntil: e.data.until };
    case 'ConversationResolved':
      return {
        ...s,
        status: 'resolved',
        resolvedAt: at,
        held: false,
        personInvolved: s.personInvolved || e.data.by !== undefined,
        ...(e.data.by !== undefined && { resolvedBy: e.data.by }),
        snoozedUntil: undefined,
      };
    case 'ConversationReopened':
      return {
        ...s,
        status: 'open',
        snoozedUntil: undefined,
        resolvedAt: s.status === 'resolved' ? undefined : s.resolvedAt,
        reopened: s.status === 'resolved' ? s.reopened + 1 : s.reopened,
        // a reopened conversation goes back to whoever held it before it was resolved
        held: s.held || s.team !== undefined || s.assignee !== undefined,
      };
    case 'SatisfactionRated':
      return { ...s, rating: { score: e.data.score, ...(e.data.comment !== undefined && { comment: e.data.comment }) } };
  }
}

/** Every conversation of a customer, from its stream, in the order they started. */
export function conversationsFromStream(events: Iterable<JourneyEvent>): Map<string, ConversationState> {
  const conversations = new Map<string, ConversationState>();
  for (const e of events) {
    if (e.type === 'CustomerForgotten') conversations.clear();
    if (!isConversationEvent(e)) continue;
    const id = e.data.conversationId;
    conversations.set(id, evolveConversation(conversations.get(id) ?? initialConversationState(id), e));
  }
  return conversations;
}

/**
 * Which conversation an inbound customer message belongs to: the one it names (a reply address, an in-app thread),
 * else the one that holds the message it answers (`inReplyTo`: an engine messageId or an earlier email Message-ID),
 * else the latest unresolved one on its channel; `undefined`: a new conversation.
 */
export function routeCustomerMessage(
  conversations: ReadonlyMap<string, ConversationState>,
  message: { conversationId?: string; inReplyTo?: string[]; channel: ConversationChannel },
): string | undefined {
  if (message.conversationId !== undefined) return conversations.has(message.conversationId) ? message.conversationId : undefined;
  const all = [...conversations.values()].filter((c) => c.exists);
  for (const ref of message.inReplyTo ?? []) {
    const hit = all.find((c) => c.inReplyTo === ref || c.thread.some((t) => t.messageId === ref || t.providerId === ref));
    if (hit) return hit.conversationId;
  }
  return all.reverse().find((c) => c.channel === message.channel && c.status !== 'resolved')?.conversationId;
}

export type ConversationCommand =
  /** The customer wrote: starts the conversation, or reopens a resolved or snoozed one. A known `providerId`: nothing. */
  | {
      type: 'ReceiveCustomerMessage';
      channel: ConversationChannel;
      body: string;
      providerId?: string;
      sentiment?: number;
      subject?: string;
      inReplyTo?: string;
    }
  /**
   * An agent (`by`) starts a conversation with the customer: ConversationStarted, then their first message
   * (AgentReplied), the conversation assigned to them. Refused (409) when the conversation already exists.
   */
  | { type: 'Start'; body: string; by: string; channel: ConversationChannel; subject?: string }
  /** A member (`by`) answers, or automation (`automated`), which a held conversation refuses. */
  | {
      type: 'Reply';
      body: string;
      by?: string;
      automated?: { triggerId: string; runId: string };
      channel?: ConversationChannel;
    }
  | { type: 'AddNote'; body: string; by: string }
  | {
      type: 'Assign';
      team?: string;
      assignee?: string;
      priority?: TaskPriority;
      by?: string;
      reason: AssignmentReason;
      triggerId?: string;
      runId?: string;
    }
  | { type: 'Tag'; tags: string[]; by?: string }
  | { type: 'Snooze'; until: string; by?: string }
  | { type: 'Resolve'; by?: string; automated?: boolean }
  | { type: 'Reopen'; by?: string; reason?: 'manual' | 'snooze-ended' }
  | { type: 'Rate'; score: number; comment?: string };

/** `not_found`: no such conversation; `conflict`: not in this state (409); `invalid`: bad input (400); `held`: a person holds it. */
export class ConversationCommandError extends Error {
  constructor(
    readonly code: 'not_found' | 'conflict' | 'invalid' | 'held',
    message: string,
  ) {
    super(message);
    this.name = 'ConversationCommandError';
  }
}

export interface ConversationContext {
  workspaceId: string;
  customerId: string;
  now: Date;
  /** Who writes the events: `http`, `reactor`, `inbox`, `email`, `slack`, ... */
  source: string;
  cause?: { id: string; metadata: { correlationId?: string } };
}

/** Longest body a message or note may have (characters). */
export const MAX_BODY = 20_000;

function checkBody(body: unknown, what: string): string {
  if (typeof body !== 'string' || body.trim() === '') throw new ConversationCommandError('invalid', `${what}: must be a non-empty string`);
  if (body.length > MAX_BODY) throw new ConversationCommandError('invalid', `${what}: at most ${MAX_BODY} characters, got ${body.length}`);
  return body;
}

export function decideConversation(command: ConversationCommand, state: ConversationState, ctx: ConversationContext): ConversationEvent[] {
  const now = ctx.now.toISOString();
  const id = state.conversationId;
  const events: ConversationEvent[] = [];
  const emit = <T extends ConversationEventType>(type: T, data: EventDataByType[T], eventId?: string) => {
    events.push(
      envelope({
        id: eventId ?? deterministicId('conversation', ctx.workspaceId, ctx.customerId, id, state.version + events.length),
        type,
        data,
        workspaceId: ctx.workspaceId,
        customerId: ctx.customerId,
        occurredAt: now,
        recordedAt: now,
        source: ctx.source,
        ...(ctx.cause && { cause: ctx.cause }),
      }) as ConversationEvent,
    );
  };
  const mustExist = () => {
    if (!state.exists) throw new ConversationCommandError('not_found', `conversation "${id}" does not exist`);
  };
  const mustBeUnresolved = (action: string) => {
    mustExist();
    if (state.status === 'resolved')
      throw new ConversationCommandError('conflict', `conversation "${id}" is resolved: reopen it before you ${action}`);
  };
  switch (command.type) {
    case 'ReceiveCustomerMessage': {
      const body = checkBody(command.body, 'body');
      if (command.providerId !== undefined && state.thread.some((t) => t.providerId === command.providerId)) return [];
      if (!state.exists)
        emit('ConversationStarted', {
          conversationId: id,
          channel: command.channel,
          ...(command.subject !== undefined && { subject: command.subject }),
          ...(command.inReplyTo !== undefined && { inReplyTo: command.inReplyTo }),
        });
      else if (state.status !== 'open') emit('ConversationReopened', { conversationId: id, reason: 'customer-replied' });
      const messageId =
        command.providerId !== undefined
          ? deterministicId('customer-message', ctx.workspaceId, command.channel, command.providerId)
          : deterministicId('customer-message', ctx.workspaceId, ctx.customerId, id, state.version + events.length);
      emit(
        'CustomerReplied',
        {
          conversationId: id,
          messageId,
          channel: command.channel,
          body,
          ...(command.providerId !== undefined && { providerId: command.providerId }),
          ...(command.sentiment !== undefined && { sentiment: command.sentiment }),
        },
        // the provider's id names the event: the same inbound message, replayed or delivered twice, is stored once
        command.providerId !== undefined
          ? deterministicId('customer-replied', ctx.workspaceId, command.channel, command.providerId)
          : undefined,
      );
      return events;
    }
    case 'Start': {
      const body = checkBody(command.body, 'body');
      if (state.exists) throw new ConversationCommandError('conflict', `conversation "${id}" exists already`);
      if (command.subject !== undefined) checkBody(command.subject, 'subject');
      emit('ConversationStarted', {
        conversationId: id,
        channel: command.channel,
        ...(command.subject !== undefined && { subject: command.subject }),
        by: command.by,
      });
      emit('ConversationAssigned', {
        conversationId: id,
        assignee: command.by,
        priority: state.priority,
        by: command.by,
        reason: 'manual',
      });
      emit('AgentReplied', {
        conversationId: id,
        messageId: deterministicId('agent-message', ctx.workspaceId, ctx.customerId, id, state.version + events.length),
        channel: command.channel,
        body,
        by: command.by,
      });
      return events;
    }
    case 'Reply': {
      const body = checkBody(command.body, 'body');
      mustBeUnresolved('reply');
      if (command.automated && state.held)
        throw new ConversationCommandError('held', `conversation "${id}" is held by a person: automation does not answer in it`);
      // a member who answers an unassigned conversation takes it (a key without a member, `key:<id>`, does not)
      if (command.by !== undefined && !command.by.startsWith('key:') && state.assignee === undefined)
        emit('ConversationAssigned', {
          conversationId: id,
          ...(state.team !== undefined && { team: state.team }),
          assignee: command.by,
          priority: state.priority,
          by: command.by,
          reason: 'manual',
        });
      const messageId = deterministicId('agent-message', ctx.workspaceId, ctx.customerId, id, state.version + events.length);
      emit('AgentReplied', {
        conversationId: id,
        messageId,
        channel: command.channel ?? state.channel,
        body,
        ...(command.by !== undefined && { by: command.by }),
        ...(command.automated && { automated: true, triggerId: command.automated.triggerId, runId: command.automated.runId }),
      });
      return events;
    }
    case 'AddNote': {
      const body = checkBody(command.body, 'body');
      mustExist();
      emit('InternalNoteAdded', {
        conversationId: id,
        noteId: deterministicId('note', ctx.workspaceId, ctx.customerId, id, state.version),
        body,
        by: command.by,
      });
      return events;
    }
    case 'Assign': {
      mustBeUnresolved('assign it');
      const priority = command.priority ?? state.priority;
      if (!TASK_PRIORITIES.includes(priority))
        throw new ConversationCommandError('invalid', `priority: must be one of ${TASK_PRIORITIES.join(', ')}, got "${String(priority)}"`);
      const team = command.team ?? state.team;
      if (state.held && team === state.team && command.assignee === state.assignee && priority === state.priority) return [];
      emit('ConversationAssigned', {
        conversationId: id,
        ...(team !== undefined && { team }),
        ...(command.assignee !== undefined && { assignee: command.assignee }),
        priority,
        ...(command.by !== undefined && { by: command.by }),
        reason: command.reason,
        ...(command.triggerId !== undefined && { triggerId: command.triggerId }),
        ...(command.runId !== undefined && { runId: command.runId }),
      });
      return events;
    }
    case 'Tag': {
      mustExist();
      const tags = command.tags.filter((t) => !state.tags.includes(t));
      if (command.tags.some((t) => typeof t !== 'string' || t.trim() === ''))
        throw new ConversationCommandError('invalid', 'tags: must be non-empty strings');
      if (tags.length === 0) return [];
      emit('ConversationTagged', { conversationId: id, tags, ...(command.by !== undefined && { by: command.by }) });
      return events;
    }
    case 'Snooze': {
      mustBeUnresolved('snooze it');
      const until = Date.parse(command.until);
      if (!Number.isFinite(until)) throw new ConversationCommandError('invalid', `until: must be an ISO 8601 time, got "${command.until}"`);
      if (until <= ctx.now.getTime()) throw new ConversationCommandError('invalid', `until: must be in the future, got "${command.until}"`);
      emit('ConversationSnoozed', {
        conversationId: id,
        until: new Date(until).toISOString(),
        ...(command.by !== undefined && { by: command.by }),
      });
      return events;
    }
    case 'Resolve':
      mustExist();
      if (state.status === 'resolved') return [];
      emit('ConversationResolved', {
        conversationId: id,
        ...(command.by !== undefined && { by: command.by }),
        ...(command.automated && { automated: true }),
      });
      return events;
    case 'Reopen':
      mustExist();
      if (state.status === 'open') return [];
      if (command.reason === 'snooze-ended' && state.status !== 'snoozed') return [];
      emit('ConversationReopened', {
        conversationId: id,
        reason: command.reason ?? 'manual',
        ...(command.by !== undefined && { by: command.by }),
      });
      return events;
    case 'Rate': {
      mustExist();
      if (state.status !== 'resolved')
        throw new ConversationCommandError('conflict', `conversation "${id}" is not resolved: it is rated once resolved`);
      if (!Number.isInteger(command.score) || command.score < 1 || command.score > 5)
        throw new ConversationCommandError('invalid', `score: must be an integer from 1 to 5, got ${JSON.stringify(command.score)}`);
      if (command.comment !== undefined) checkBody(command.comment, 'comment');
      emit('SatisfactionRated', {
        conversationId: id,
        score: command.score,
        ...(command.comment !== undefined && { comment: command.comment }),
      });
      return events;
    }
  }
}
