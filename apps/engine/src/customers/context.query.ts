import { Inject, NotFoundException } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  conversationsFromStream,
  customerStreamId,
  foldCustomer,
  isTestMessageId,
  typed,
  type ConversationState,
  type CustomerState,
  type JourneyEvent,
  type OpenTask,
  type Properties,
  type Traits,
} from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';

/** How many of the latest interactions and received messages the context shows. */
export const CONTEXT_INTERACTIONS = 20;
export const CONTEXT_MESSAGES = 10;

export interface ContextInteraction {
  type: 'InteractionRecorded' | 'PageViewed';
  /** The tracked event's name, or the page / screen name. */
  name: string | null;
  kind?: 'page' | 'screen';
  at: string;
  properties: Properties;
}

export interface ContextConversation {
  conversationId: string;
  status: ConversationState['status'];
  channel: ConversationState['channel'];
  subject?: string;
  team?: string;
  assignee?: string;
  priority: ConversationState['priority'];
  startedAt?: string;
  startedBy?: string;
  waitingOn: ConversationState['waitingOn'];
  messages: number;
  /** The last message (customer's or agent's) and the last internal note, so nobody asks again. */
  lastMessage?: { from: 'customer' | 'agent'; body: string; at: string; by?: string };
  lastNote?: { body: string; at: string; by?: string };
  snoozedUntil?: string;
  /** How an earlier conversation ended. */
  resolvedAt?: string;
  resolvedBy?: string;
  /** Resolved by automation, no person involved. */
  automated?: boolean;
  rating?: { score: number; comment?: string };
  reopened: number;
  tags: string[];
}

export interface ContextMessage {
  messageId: string;
  channel: string;
  subject?: string;
  deliveredAt: string;
  triggerId?: string;
  conversationId?: string;
}

export interface CustomerContext {
  customerId: string;
  stage: CustomerState['stage'];
  stageSince: string | null;
  traits: Traits;
  accountTraits: Record<string, Traits>;
  health: number;
  firstSeen: string | null;
  lastSeen: string | null;
  interactions: ContextInteraction[];
  openTasks: OpenTask[];
  openConversations: ContextConversation[];
  earlierConversations: ContextConversation[];
  recentMessages: ContextMessage[];
}

/**
 * GET /v1/customers/:id/context: what an agent needs so the customer is not asked again, from one read of the
 * customer's stream: stage (since when), traits and account traits, health, the last interactions, open tasks, open
 * conversations and how the earlier ones ended, the messages the customer received lately. Nothing from before a
 * CustomerForgotten.
 */
export class CustomerContextQuery extends Query<CustomerContext> {
  constructor(
    readonly workspaceId: string,
    readonly customerId: string,
  ) {
    super();
  }
}

const byTimeDesc = <T extends { at: string; seq: number }>(a: T, b: T) => (a.at < b.at ? 1 : a.at > b.at ? -1 : b.seq - a.seq);

function eventAt(e: JourneyEvent): string {
  const ms = Date.parse(e.metadata.occurredAt);
  return Number.isNaN(ms) ? e.metadata.recordedAt : new Date(ms).toISOString();
}

export function customerContext(workspaceId: string, customerId: string, all: JourneyEvent[]): CustomerContext {
  const customer = foldCustomer(workspaceId, customerId, all);
  let forgottenAt = -1;
  all.forEach((e, i) => {
    if (e.type === 'CustomerForgotten') forgottenAt = i;
  });
  const events = all.slice(forgottenAt + 1);

  const interactions: Array<ContextInteraction & { seq: number }> = [];
  const scheduled = new Map<string, { subject?: string; triggerId?: string; conversationId?: string }>();
  const delivered: Array<ContextMessage & { at: string; seq: number }> = [];
  events.forEach((event, seq) => {
    const e = typed(event);
    switch (e.type) {
      case 'InteractionRecorded':
        interactions.push({ type: e.type, name: e.data.event, at: eventAt(e), properties: e.data.properties ?? {}, seq });
        break;
      case 'PageViewed':
        interactions.push({
          type: e.type,
          name: e.data.name ?? null,
          kind: e.data.kind,
          at: eventAt(e),
          properties: e.data.properties ?? {},
          seq,
        });
        break;
      case 'MessageScheduled':
        // a test send to a test address was not received by the customer (an inbox one is on the test customer's stream)
        if (e.data.test && e.data.channel !== 'inbox') break;
        scheduled.set(e.data.messageId, {
          ...(e.data.template?.subject !== undefined && { subject: e.data.template.subject }),
          ...(e.data.triggerId !== undefined && { triggerId: e.data.triggerId }),
          ...(e.data.conversationId !== undefined && { conversationId: e.data.conversationId }),
        });
        break;
      case 'MessageDelivered': {
        const s = scheduled.get(e.data.messageId);
        if (!s && isTestMessageId(e.data.messageId)) break;
        const subject = e.data.content?.subject ?? s?.subject;
        delivered.push({
          messageId: e.data.messageId,
          channel: e.data.channel,
          ...(subject !== undefined && { subject }),
          deliveredAt: e.metadata.recordedAt,
          ...(s?.triggerId !== undefined && { triggerId: s.triggerId }),
          ...(s?.conversationId !== undefined && { conversationId: s.conversationId }),
          at: e.metadata.recordedAt,
          seq,
        });
        break;
      }
      default:
        break;
    }
  });

  const conversations = [...conversationsFromStream(events).values()].filter((c) => c.exists).reverse();
  const view = conversations.map(contextConversation);
  return {
    customerId,
    stage: customer.stage,
    stageSince: customer.stageSince,
    traits: customer.traits,
    accountTraits: customer.accountTraits,
    health: customer.health,
    firstSeen: customer.firstSeen,
    lastSeen: customer.lastSeen,
    interactions: interactions
      .sort(byTimeDesc)
      .slice(0, CONTEXT_INTERACTIONS)
      .map(({ seq: _seq, ...i }) => i),
    openTasks: customer.openTasks,
    openConversations: view.filter((c) => c.status !== 'resolved'),
    earlierConversations: view.filter((c) => c.status === 'resolved'),
    recentMessages: delivered
      .sort(byTimeDesc)
      .slice(0, CONTEXT_MESSAGES)
      .map(({ seq: _seq, at: _at, ...m }) => m),
  };
}

function contextConversation(c: ConversationState): ContextConversation {
  const messages = c.thread.filter((t) => t.from !== 'note');
  const last = messages.at(-1);
  const note = c.thread.filter((t) => t.from === 'note').at(-1);
  return {
    conversationId: c.conversationId,
    status: c.status,
    channel: c.channel,
    ...(c.subject !== undefined && { subject: c.subject }),
    ...(c.team !== undefined && { team: c.team }),
    ...(c.assignee !== undefined && { assignee: c.assignee }),
    priority: c.priority,
    ...(c.startedAt !== undefined && { startedAt: c.startedAt }),
    ...(c.startedBy !== undefined && { startedBy: c.startedBy }),
    waitingOn: c.waitingOn,
    messages: messages.length,
    ...(last && {
      lastMessage: { from: last.from as 'customer' | 'agent', body: last.body, at: last.at, ...(last.by !== undefined && { by: last.by }) },
    }),
    ...(note && { lastNote: { body: note.body, at: note.at, ...(note.by !== undefined && { by: note.by }) } }),
    ...(c.snoozedUntil !== undefined && { snoozedUntil: c.snoozedUntil }),
    ...(c.status === 'resolved' && {
      ...(c.resolvedAt !== undefined && { resolvedAt: c.resolvedAt }),
      ...(c.resolvedBy !== undefined && { resolvedBy: c.resolvedBy }),
      automated: !c.personInvolved,
    }),
    ...(c.rating !== undefined && { rating: c.rating }),
    reopened: c.reopened,
    tags: c.tags,
  };
}

@QueryHandler(CustomerContextQuery)
export class CustomerContextHandler implements IQueryHandler<CustomerContextQuery> {
  constructor(@Inject(EVENT_STORE) private readonly events: EventStore) {}

  async execute({ workspaceId, customerId }: CustomerContextQuery): Promise<CustomerContext> {
    const events = await this.events.readStream(customerStreamId(workspaceId, customerId));
    if (events.length === 0) throw new NotFoundException(`customer "${customerId}" not found`);
    return customerContext(workspaceId, customerId, events);
  }
}
