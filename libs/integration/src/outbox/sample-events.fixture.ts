import { randomUUID } from 'node:crypto';
import type { EventDataByType, JourneyEvent } from '@journey/domain';
import type { PublishedEventType } from './integration-events';

/** Test fixture: one event of every published type (with internal fields that must not leave), for one customer. */
export const SAMPLE_DATA: { [T in PublishedEventType]: EventDataByType[T] } = {
  CustomerIdentified: { userId: 'u1', traits: { email: 'ada@example.com', plan: 'pro' }, context: { ip: '203.0.113.9' } },
  TraitsUpdated: { traits: { plan: 'enterprise' }, by: 'csm' },
  InteractionRecorded: { event: 'Feature Used', properties: { feature: 'export' }, context: { userAgent: 'x' } },
  PageViewed: { kind: 'page', name: 'Pricing', properties: { path: '/pricing' } },
  AccountLinked: { groupId: 'acme', traits: { seats: 20 } },
  IdentitiesMerged: { previousId: 'anon-1', userId: 'u1' },
  CustomerForgotten: { reason: 'GDPR request' },
  StageChanged: { from: null, to: 'onboarding', reason: 'first identify' },
  MessageScheduled: {
    messageId: 'm1',
    channel: 'email',
    triggerId: 't1',
    triggerVersion: 2,
    template: { subject: 'Hi', body: 'Hello {{name}}' },
    to: 'ada@example.com',
    causingEventId: 'e1',
    notBefore: '2026-01-01T09:00:00.000Z',
  },
  MessageSent: { messageId: 'm1', channel: 'email', attempt: 1 },
  MessageDelivered: { messageId: 'm1', channel: 'in-app', attempt: 1, content: { body: 'secret body' } },
  MessageFailed: { messageId: 'm1', channel: 'webhook', attempts: 3, error: 'HTTP 500' },
  MessageSuppressed: { messageId: 'm2', channel: 'email', reason: 'quiet hours', detail: '22:00-08:00' },
  MessageOpened: { messageId: 'm1' },
  MessageClicked: { messageId: 'm1', url: 'https://example.com/docs' },
  CsmTaskOpened: { taskId: 'k1', title: 'Call Ada', priority: 'high', owner: 'bob', dueAt: '2026-01-02T00:00:00.000Z' },
  CsmTaskClosed: { taskId: 'k1', resolution: 'done', outcome: 'renewed for a year', by: 'ann' },
  CsmTaskAssigned: { taskId: 'k1', assignee: 'ann', reason: 'least-loaded' },
  ConversationStarted: { conversationId: 'cv1', channel: 'email', subject: 'Invoice', inReplyTo: 'm1' },
  CustomerReplied: {
    conversationId: 'cv1',
    messageId: 'cm1',
    channel: 'email',
    body: 'Why was I charged twice?',
    providerId: '<x@mail.example.com>',
    sentiment: -0.3,
  },
  AgentReplied: { conversationId: 'cv1', messageId: 'am1', channel: 'email', body: 'Refunded.', by: 'ann' },
  InternalNoteAdded: { conversationId: 'cv1', noteId: 'n1', body: 'Stripe bug again?', by: 'ann' },
  ConversationAssigned: { conversationId: 'cv1', team: 'support', assignee: 'ann', priority: 'high', reason: 'least-loaded' },
  ConversationTagged: { conversationId: 'cv1', tags: ['billing'], by: 'ann' },
  ConversationSnoozed: { conversationId: 'cv1', until: '2026-01-03T09:00:00.000Z', by: 'ann' },
  ConversationResolved: { conversationId: 'cv1', by: 'ann' },
  ConversationReopened: { conversationId: 'cv1', reason: 'customer-replied' },
  SatisfactionRated: { conversationId: 'cv1', score: 5, comment: 'Fast' },
  SlaBreached: {
    subject: 'conversation',
    id: 'cv1',
    target: 'first-response',
    dueAt: '2026-01-01T10:00:00.000Z',
    team: 'support',
    priority: 'high',
    assignee: 'ann',
  },
};

export function sampleEvent(
  type: string,
  data: object,
  workspaceId: string,
  customerId: string,
  occurredAt = '2026-01-01T00:00:00.000Z',
): JourneyEvent {
  return {
    id: randomUUID(),
    type,
    data: data as Record<string, unknown>,
    metadata: { workspaceId, customerId, occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
  };
}

/** Every published type once, plus internal events that must not be published. */
export function sampleEvents(workspaceId: string, customerId: string): JourneyEvent[] {
  return [
    ...Object.entries(SAMPLE_DATA).map(([type, data]) => sampleEvent(type, data, workspaceId, customerId)),
    sampleEvent(
      'TimerScheduled',
      { timerId: 't', dueAt: '2026-01-03T00:00:00.000Z', purpose: 'stage:inactivity' },
      workspaceId,
      customerId,
    ),
    sampleEvent('TriggerMatched', { triggerId: 't1', version: 2, runId: 'r', causingEventId: 'e1' }, workspaceId, customerId),
  ];
}
