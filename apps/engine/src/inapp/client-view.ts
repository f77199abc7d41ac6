/**
 * What the customer's own client sees: its conversations and the live events, without what is internal (internal
 * notes, member ids, teams, priorities, tags, sentiment, trigger and run ids). Pure.
 */
import { typed, type ConversationChannel, type ConversationState, type OrganisationState, type RecordedEvent } from '@journey/domain';

/** The name an agent is shown by when the member is unknown (removed) or the answer was automated. */
export const DEFAULT_AGENT_NAME = 'Support';

/**
 * The in-app client's message ids are chosen by the client, so they are unique only per customer, while the core
 * names a provider's message (its event ids) by workspace, channel and provider id: the id is kept per customer by
 * prefixing the customer id (URI-encoded, so no customer id is a prefix of another's ids).
 */
export const inAppProviderId = (customerId: string, clientMessageId: string): string =>
  `inapp:${encodeURIComponent(customerId)}/${clientMessageId}`;

export function clientMessageIdOf(customerId: string, providerId: string | undefined): string | undefined {
  const prefix = inAppProviderId(customerId, '');
  return providerId?.startsWith(prefix) ? providerId.slice(prefix.length) : undefined;
}

export interface ClientMessage {
  messageId: string;
  from: 'customer' | 'agent';
  body: string;
  at: string;
  /** An agent's answer: the member's name, or "Support". */
  agent?: string;
  /** The customer's own messages sent from the in-app client with a clientMessageId. */
  clientMessageId?: string;
}

export interface ClientConversation {
  conversationId: string;
  status: 'open' | 'resolved';
  channel: ConversationChannel;
  subject?: string;
  /** The inbox message the customer answered to start it. */
  inReplyTo?: string;
  startedAt?: string;
  resolvedAt?: string;
  messages: ClientMessage[];
  rating?: { score: number; comment?: string };
}

export const agentName = (organisation: OrganisationState | undefined, memberId: string | undefined): string =>
  (memberId !== undefined ? organisation?.members.get(memberId)?.name : undefined) ?? DEFAULT_AGENT_NAME;

/** A conversation as the customer sees it: a snoozed one is open to them; notes are left out. */
export function clientConversation(c: ConversationState, customerId: string, organisation?: OrganisationState): ClientConversation {
  const messages: ClientMessage[] = [];
  for (const t of c.thread) {
    if (t.from === 'customer') {
      const clientMessageId = clientMessageIdOf(customerId, t.providerId);
      messages.push({
        messageId: t.messageId,
        from: 'customer',
        body: t.body,
        at: t.at,
        ...(clientMessageId !== undefined && { clientMessageId }),
      });
    } else if (t.from === 'agent') {
      messages.push({ messageId: t.messageId, from: 'agent', body: t.body, at: t.at, agent: agentName(organisation, t.by) });
    }
    // t.from === 'note': between colleagues, never shown to the customer
  }
  return {
    conversationId: c.conversationId,
    status: c.status === 'resolved' ? 'resolved' : 'open',
    channel: c.channel,
    ...(c.subject !== undefined && { subject: c.subject }),
    ...(c.inReplyTo !== undefined && { inReplyTo: c.inReplyTo }),
    ...(c.startedAt !== undefined && { startedAt: c.startedAt }),
    ...(c.resolvedAt !== undefined && { resolvedAt: c.resolvedAt }),
    messages,
    ...(c.rating !== undefined && { rating: c.rating }),
  };
}

/** The customer's conversations, the one with the latest message first. */
export function clientConversations(
  conversations: Iterable<ConversationState>,
  customerId: string,
  organisation?: OrganisationState,
): ClientConversation[] {
  const lastAt = (c: ClientConversation) => c.messages.at(-1)?.at ?? c.startedAt ?? '';
  return [...conversations]
    .filter((c) => c.exists)
    .map((c) => clientConversation(c, customerId, organisation))
    .sort((a, b) => (lastAt(a) < lastAt(b) ? 1 : lastAt(a) > lastAt(b) ? -1 : 0));
}

/** The event types an in-app client's stream carries. */
export const CLIENT_STREAM_TYPES = ['AgentReplied', 'ConversationResolved', 'ConversationReopened', 'MessageDelivered'] as const;

/** One Server-Sent Event for the client: `id` the event's global position, `event` its type; undefined: not for it. */
export interface ClientStreamEvent {
  id: string;
  event: (typeof CLIENT_STREAM_TYPES)[number];
  data: Record<string, unknown>;
}

export function clientStreamEvent(recorded: RecordedEvent, organisation?: OrganisationState): ClientStreamEvent | undefined {
  const e = typed(recorded);
  const id = recorded.position.toString();
  const at = e.metadata.occurredAt;
  switch (e.type) {
    case 'AgentReplied':
      return {
        id,
        event: e.type,
        data: {
          conversationId: e.data.conversationId,
          message: { messageId: e.data.messageId, from: 'agent', body: e.data.body, at, agent: agentName(organisation, e.data.by) },
        },
      };
    case 'ConversationResolved':
      return { id, event: e.type, data: { conversationId: e.data.conversationId, status: 'resolved', at } };
    case 'ConversationReopened':
      return { id, event: e.type, data: { conversationId: e.data.conversationId, status: 'open', at } };
    case 'MessageDelivered':
      if (e.data.channel !== 'inbox' || !e.data.content) return undefined;
      return {
        id,
        event: e.type,
        data: {
          messageId: e.data.messageId,
          ...(e.data.content.subject !== undefined && { subject: e.data.content.subject }),
          body: e.data.content.body,
          deliveredAt: e.metadata.recordedAt,
          opened: false,
        },
      };
    default:
      return undefined;
  }
}
