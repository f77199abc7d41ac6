import { escapeWorkspaceId, isTestMessageId, type EventDataByType, type RecordedEvent } from '@journey/domain';

/**
 * The public contract of the integration events (deploy/kafka.md): which journey events leave the engine, on which
 * topic, with which fields, as CloudEvents 1.0 in structured JSON mode. Internal events (triggers, timers, trigger
 * matches) stay inside. Each published type has a JSON Schema in `../schemas` whose `$id` is the event's `dataschema`.
 */

/** Topic names without the configurable prefix (default `journey.`). */
export const TOPIC_SUFFIXES = ['customer-events', 'stage-changes', 'messages', 'csm-tasks', 'conversations'] as const;
export type TopicSuffix = (typeof TOPIC_SUFFIXES)[number];

export const DEFAULT_TOPIC_PREFIX = 'journey.';

/**
 * Published types: their topic, the fields of `data` that leave the engine (rendered bodies and addresses do not) and
 * the version of their schema (1 unless given; a changed shape is a new version, deploy/kafka.md).
 *
 * Conversations go to their own topic, `conversations`, with the text the customer and the agents wrote (the
 * conversation is the content: a CRM or a helpdesk consuming it needs it) and the internal notes (InternalNoteAdded:
 * never shown to the customer, but the topic is the company's own, like every topic here). What stays inside: the
 * provider id of an inbound message (an email Message-ID; the event id already deduplicates), the sentiment's inputs.
 */
const PUBLISHED = {
  CustomerIdentified: { topic: 'customer-events', fields: ['userId', 'anonymousId', 'traits'] },
  TraitsUpdated: { topic: 'customer-events', fields: ['traits', 'by'] },
  InteractionRecorded: { topic: 'customer-events', fields: ['event', 'properties'] },
  PageViewed: { topic: 'customer-events', fields: ['kind', 'name', 'category', 'properties'] },
  AccountLinked: { topic: 'customer-events', fields: ['groupId', 'traits'] },
  IdentitiesMerged: { topic: 'customer-events', fields: ['previousId', 'userId'] },
  CustomerForgotten: { topic: 'customer-events', fields: ['reason'] },
  StageChanged: { topic: 'stage-changes', fields: ['from', 'to', 'reason'] },
  MessageScheduled: {
    topic: 'messages',
    fields: ['messageId', 'channel', 'triggerId', 'triggerVersion', 'templateId', 'templateVersion', 'causingEventId', 'notBefore'],
  },
  MessageSent: { topic: 'messages', fields: ['messageId', 'channel', 'attempt'] },
  MessageDelivered: { topic: 'messages', fields: ['messageId', 'channel', 'attempt', 'detail'] },
  MessageFailed: { topic: 'messages', fields: ['messageId', 'channel', 'attempts', 'error'] },
  MessageSuppressed: { topic: 'messages', fields: ['messageId', 'channel', 'reason', 'detail'] },
  MessageOpened: { topic: 'messages', fields: ['messageId'] },
  MessageClicked: { topic: 'messages', fields: ['messageId', 'url'] },
  CsmTaskOpened: { topic: 'csm-tasks', fields: ['taskId', 'title', 'owner', 'priority', 'dueAt', 'triggerId'] },
  CsmTaskClosed: { topic: 'csm-tasks', fields: ['taskId', 'resolution', 'outcome', 'by'], version: 2 },
  CsmTaskAssigned: { topic: 'csm-tasks', fields: ['taskId', 'assignee', 'by', 'reason'] },
  ConversationStarted: { topic: 'conversations', fields: ['conversationId', 'channel', 'subject', 'inReplyTo', 'by'] },
  CustomerReplied: { topic: 'conversations', fields: ['conversationId', 'messageId', 'channel', 'body', 'sentiment'] },
  AgentReplied: {
    topic: 'conversations',
    fields: ['conversationId', 'messageId', 'channel', 'body', 'by', 'automated', 'triggerId', 'runId'],
  },
  InternalNoteAdded: { topic: 'conversations', fields: ['conversationId', 'noteId', 'body', 'by'] },
  ConversationAssigned: {
    topic: 'conversations',
    fields: ['conversationId', 'team', 'assignee', 'priority', 'by', 'reason', 'triggerId', 'runId'],
  },
  ConversationTagged: { topic: 'conversations', fields: ['conversationId', 'tags', 'by'] },
  ConversationSnoozed: { topic: 'conversations', fields: ['conversationId', 'until', 'by'] },
  ConversationResolved: { topic: 'conversations', fields: ['conversationId', 'by', 'automated'] },
  ConversationReopened: { topic: 'conversations', fields: ['conversationId', 'by', 'reason'] },
  SatisfactionRated: { topic: 'conversations', fields: ['conversationId', 'score', 'comment'] },
  SlaBreached: { topic: 'conversations', fields: ['subject', 'id', 'target', 'dueAt', 'team', 'priority', 'assignee'] },
} as const satisfies {
  [T in keyof EventDataByType]?: { topic: TopicSuffix; fields: ReadonlyArray<keyof EventDataByType[T]>; version?: number };
};

export type PublishedEventType = keyof typeof PUBLISHED;
export const PUBLISHED_EVENT_TYPES = Object.keys(PUBLISHED) as PublishedEventType[];

export function isPublished(type: string): type is PublishedEventType {
  return Object.prototype.hasOwnProperty.call(PUBLISHED, type);
}

/** `journey.<EventType>`: the CloudEvents `type` attribute. */
export function integrationType(eventType: PublishedEventType): string {
  return `journey.${eventType}`;
}

/** The `dataschema` URI of a published type: also the `$id` of its JSON Schema. */
export function dataSchemaUri(eventType: PublishedEventType): string {
  return `urn:journey-engine:integration:${integrationType(eventType)}:v${schemaVersion(eventType)}`;
}

/** The version of a published type's current schema. */
export function schemaVersion(eventType: PublishedEventType): number {
  const entry = PUBLISHED[eventType];
  return 'version' in entry ? entry.version : 1;
}

export function topicFor(eventType: PublishedEventType, prefix = DEFAULT_TOPIC_PREFIX): string {
  return prefix + PUBLISHED[eventType].topic;
}

export function allTopics(prefix = DEFAULT_TOPIC_PREFIX): string[] {
  return TOPIC_SUFFIXES.map((suffix) => prefix + suffix);
}

/** A CloudEvents 1.0 event, structured JSON mode, with the extension attributes `workspace` and `position`. */
export interface IntegrationEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  datacontenttype: 'application/json';
  dataschema: string;
  /** Extension: the workspace the customer belongs to. */
  workspace: string;
  /** Extension: the event's global position in the engine's log (a decimal string: it can exceed 32 bits). */
  position: string;
  data: Record<string, unknown>;
}

/**
 * An integration event with where it goes: topic and key. The key `<workspace>:<customerId>` (the workspace escaped as
 * in stream ids) keeps a customer in order.
 */
export interface OutboxMessage {
  topic: string;
  key: string;
  event: IntegrationEvent;
}

export function messageKey(workspaceId: string, customerId: string): string {
  return `${escapeWorkspaceId(workspaceId)}:${customerId}`;
}

/** Maps a recorded journey event to its outbox message, or undefined for events that are not published. */
export function toOutboxMessage(event: RecordedEvent, topicPrefix = DEFAULT_TOPIC_PREFIX): OutboxMessage | undefined {
  if (!isPublished(event.type)) return undefined;
  // a test send (preview) is no message to the customer: other services never hear of it
  if (isTestMessageId((event.data as { messageId?: unknown }).messageId)) return undefined;
  const { workspaceId, customerId, occurredAt } = event.metadata;
  const data: Record<string, unknown> = {};
  for (const field of PUBLISHED[event.type].fields as readonly string[]) {
    const value = (event.data as Record<string, unknown>)[field];
    if (value !== undefined) data[field] = value;
  }
  return {
    topic: topicFor(event.type, topicPrefix),
    key: messageKey(workspaceId, customerId),
    event: {
      specversion: '1.0',
      id: event.id,
      source: `journey-engine/${workspaceId}`,
      type: integrationType(event.type),
      subject: customerId,
      time: occurredAt,
      datacontenttype: 'application/json',
      dataschema: dataSchemaUri(event.type),
      workspace: workspaceId,
      position: event.position.toString(),
      data,
    },
  };
}
