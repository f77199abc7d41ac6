import type { EventDataByType, EventType, RecordedEvent } from './events';
import { buildTimeline, eventsAsOf } from './timeline';

let position = 0n;
/** An event as the log holds it: the position grows in the order the engine recorded them. */
function recorded<T extends EventType>(type: T, data: EventDataByType[T], occurredAt: string, recordedAt = occurredAt): RecordedEvent {
  position += 1n;
  return {
    id: `e${position}`,
    type,
    data: data as never,
    metadata: { workspaceId: 'w', customerId: 'c1', occurredAt, recordedAt, source: 'test', schemaVersion: 1 },
    streamId: 'customer-w-c1',
    revision: position - 1n,
    position,
  };
}

describe('timeline', () => {
  it('shows interactions, pages, stage changes, messages and tasks, and not timers', () => {
    const events = [
      recorded('CustomerIdentified', { userId: 'c1', traits: { email: 'a@x.io' } }, '2025-01-01T00:00:00Z'),
      recorded('InteractionRecorded', { event: 'Signed Up', properties: { plan: 'pro' } }, '2025-01-01T00:01:00Z'),
      recorded('PageViewed', { kind: 'page', name: 'Pricing', properties: {} }, '2025-01-01T00:02:00Z'),
      recorded('StageChanged', { from: 'onboarding', to: 'active', reason: 'activated' }, '2025-01-01T00:03:00Z'),
      recorded('TimerScheduled', { timerId: 't', dueAt: '2025-01-08T00:00:00Z', purpose: 'stage:inactivity' }, '2025-01-01T00:03:00Z'),
      recorded(
        'MessageScheduled',
        { messageId: 'm1', channel: 'email', template: { body: 'Hello {{name}}' }, to: 'a@x.io' },
        '2025-01-01T00:04:00Z',
      ),
      recorded('MessageSuppressed', { messageId: 'm1', channel: 'email', reason: 'quiet-hours' }, '2025-01-01T00:05:00Z'),
      recorded('CsmTaskOpened', { taskId: 'k', title: 'Call', priority: 'high' }, '2025-01-01T00:06:00Z'),
    ];
    const timeline = buildTimeline(events);
    expect(timeline.map((t) => t.kind)).toEqual(['identify', 'interaction', 'page', 'stage', 'message', 'message', 'task']);
    expect(timeline[1]).toMatchObject({
      type: 'InteractionRecorded',
      summary: 'Tracked "Signed Up"',
      details: { event: 'Signed Up', properties: { plan: 'pro' } },
      position: '2',
    });
    expect(timeline[3].summary).toBe('Stage onboarding → active: activated');
    expect(timeline[4].details).toEqual({ messageId: 'm1', channel: 'email' });
    expect(timeline[5].summary).toBe('Message m1 suppressed via email: quiet-hours');
  });

  it('shows an admin re-sending a failed message', () => {
    const timeline = buildTimeline([
      recorded('MessageFailed', { messageId: 'm2', channel: 'webhook', attempts: 30, error: 'HTTP 503' }, '2025-01-01T00:00:00Z'),
      recorded('MessageResendRequested', { messageId: 'm2', channel: 'webhook', resend: 1 }, '2025-01-02T00:00:00Z'),
    ]);
    expect(timeline.map((t) => [t.kind, t.summary])).toEqual([
      ['message', 'Message m2 failed via webhook: HTTP 503'],
      ['message', 'Message m2 re-send 1 requested via webhook'],
    ]);
  });

  it('orders by event time, so a late event takes its place in the journey; ties keep log order', () => {
    const a = recorded('InteractionRecorded', { event: 'A', properties: {} }, '2025-01-02T00:00:00Z');
    const b = recorded('InteractionRecorded', { event: 'B', properties: {} }, '2025-01-03T00:00:00Z');
    const late = recorded('InteractionRecorded', { event: 'late', properties: {} }, '2025-01-01T00:00:00Z', '2025-01-04T00:00:00Z');
    const tie1 = recorded('InteractionRecorded', { event: 'tie1', properties: {} }, '2025-01-03T01:00:00+01:00');
    const tie2 = recorded('InteractionRecorded', { event: 'tie2', properties: {} }, '2025-01-03T00:00:00Z');
    expect(buildTimeline([a, b, late, tie1, tie2]).map((t) => t.details.event)).toEqual(['late', 'A', 'B', 'tie1', 'tie2']);
  });

  it('asOf shows the timeline as the engine knew it then: only what was recorded by that moment', () => {
    const a = recorded('InteractionRecorded', { event: 'A', properties: {} }, '2025-01-02T00:00:00Z');
    const late = recorded('InteractionRecorded', { event: 'late', properties: {} }, '2025-01-01T00:00:00Z', '2025-01-05T00:00:00Z');
    const c = recorded('InteractionRecorded', { event: 'C', properties: {} }, '2025-01-06T00:00:00Z');
    const all = [a, late, c];
    const at = (iso: string) => buildTimeline(all, { asOf: new Date(iso) }).map((t) => t.details.event);
    expect(at('2025-01-01T12:00:00Z')).toEqual([]);
    expect(at('2025-01-02T00:00:00Z')).toEqual(['A']); // inclusive
    expect(at('2025-01-04T00:00:00Z')).toEqual(['A']); // the late event happened before, but was not known yet
    expect(at('2025-01-05T00:00:00Z')).toEqual(['late', 'A']);
    expect(at('2030-01-01T00:00:00Z')).toEqual(['late', 'A', 'C']);
    expect(eventsAsOf(all)).toEqual(all);
  });

  it('redacts personal data when the customer was forgotten, also in past views', () => {
    const events = [
      recorded('CustomerIdentified', { userId: 'c1', traits: { email: 'a@x.io' } }, '2025-01-01T00:00:00Z'),
      recorded('InteractionRecorded', { event: 'Paid', properties: { card: '4242' } }, '2025-01-02T00:00:00Z'),
      recorded('CustomerForgotten', { reason: 'gdpr' }, '2025-01-03T00:00:00Z'),
    ];
    const past = buildTimeline(events, { asOf: new Date('2025-01-02T12:00:00Z') });
    expect(past.map((t) => t.details)).toEqual([{}, { event: 'Paid' }]);
    expect(buildTimeline(events).map((t) => t.kind)).toEqual(['identify', 'interaction', 'forgotten']);
  });

  describe('conversations', () => {
    const members = new Map([
      ['ann', 'Ann'],
      ['carl', 'Carl'],
    ]);
    const conversation = () => [
      recorded('CustomerIdentified', { userId: 'c1', traits: { name: 'Bob', email: 'bob@x.io' } }, '2025-02-01T09:00:00Z'),
      recorded('ConversationStarted', { conversationId: 'cv1', channel: 'email', subject: 'Invoice question' }, '2025-02-01T10:00:00Z'),
      recorded(
        'CustomerReplied',
        {
          conversationId: 'cv1',
          messageId: 'm1',
          channel: 'email',
          body: 'Why was I   charged twice?',
          providerId: '<a@mail>',
          sentiment: -0.4,
        },
        '2025-02-01T10:00:00Z',
      ),
      recorded(
        'AgentReplied',
        {
          conversationId: 'cv1',
          messageId: 'm2',
          channel: 'email',
          body: 'Thanks, we are looking.',
          automated: true,
          triggerId: 'billing',
          runId: 'r1',
        },
        '2025-02-01T10:00:05Z',
      ),
      recorded(
        'ConversationAssigned',
        { conversationId: 'cv1', team: 'support', priority: 'high', reason: 'queued', triggerId: 'billing', runId: 'r1' },
        '2025-02-01T10:00:06Z',
      ),
      recorded(
        'ConversationAssigned',
        { conversationId: 'cv1', team: 'support', assignee: 'ann', priority: 'high', reason: 'least-loaded' },
        '2025-02-01T10:00:07Z',
      ),
      recorded(
        'InternalNoteAdded',
        { conversationId: 'cv1', noteId: 'n1', body: 'Carl, is this the Stripe bug?', by: 'ann' },
        '2025-02-01T10:10:00Z',
      ),
      recorded('ConversationTagged', { conversationId: 'cv1', tags: ['billing', 'refund'], by: 'ann' }, '2025-02-01T10:11:00Z'),
      recorded(
        'AgentReplied',
        { conversationId: 'cv1', messageId: 'm3', channel: 'email', body: 'Refunded: sorry!', by: 'ann' },
        '2025-02-01T10:20:00Z',
      ),
      recorded('ConversationSnoozed', { conversationId: 'cv1', until: '2025-02-02T10:00:00.000Z', by: 'ann' }, '2025-02-01T10:21:00Z'),
      recorded('ConversationReopened', { conversationId: 'cv1', reason: 'snooze-ended' }, '2025-02-02T10:00:00Z'),
      recorded('ConversationResolved', { conversationId: 'cv1', by: 'ann' }, '2025-02-02T10:05:00Z'),
      recorded('SatisfactionRated', { conversationId: 'cv1', score: 5, comment: 'Fast and kind' }, '2025-02-02T11:00:00Z'),
      recorded('ConversationReopened', { conversationId: 'cv1', reason: 'customer-replied' }, '2025-02-03T09:00:00Z'),
      recorded('ConversationReopened', { conversationId: 'cv1', reason: 'manual', by: 'carl' }, '2025-02-03T09:01:00Z'),
      recorded(
        'SlaBreached',
        {
          subject: 'conversation',
          id: 'cv1',
          target: 'first-response',
          dueAt: '2025-02-03T10:00:00.000Z',
          team: 'support',
          priority: 'high',
          assignee: 'ann',
        },
        '2025-02-03T10:00:00Z',
      ),
      recorded('CsmTaskOpened', { taskId: 'k1', title: 'Call back', priority: 'normal' }, '2025-02-03T11:00:00Z'),
      recorded('CsmTaskAssigned', { taskId: 'k1', assignee: 'ann', reason: 'manual', by: 'carl' }, '2025-02-03T11:01:00Z'),
      recorded('CsmTaskClosed', { taskId: 'k1', resolution: 'done', outcome: 'Bob renews for a year', by: 'ann' }, '2025-02-03T12:00:00Z'),
    ];

    it('shows every conversation event, SLA breach and task assignment with a readable summary', () => {
      const timeline = buildTimeline(conversation(), { members });
      expect(timeline.slice(1).map((t) => [t.kind, t.summary])).toEqual([
        ['conversation', 'Conversation "Invoice question" started on email by Bob'],
        ['conversation', 'Bob replied on email: Why was I charged twice?'],
        ['conversation', 'Automation (trigger billing) replied on email: Thanks, we are looking.'],
        ['conversation', 'Handed off to support, high (queued: waiting for an available member)'],
        ['conversation', 'Assigned to Ann (ann, least-loaded) in support, high'],
        ['conversation', 'Ann (ann) added an internal note: Carl, is this the Stripe bug?'],
        ['conversation', 'Tagged billing, refund by Ann (ann)'],
        ['conversation', 'Ann (ann) replied on email: Refunded: sorry!'],
        ['conversation', 'Snoozed until 2025-02-02T10:00:00.000Z by Ann (ann)'],
        ['conversation', 'Reopened: the snooze ended'],
        ['conversation', 'Resolved by Ann (ann)'],
        ['conversation', 'Bob rated the conversation 5/5: Fast and kind'],
        ['conversation', 'Reopened: Bob replied'],
        ['conversation', 'Reopened: by Carl (carl)'],
        ['sla', 'SLA first-response breached: conversation cv1 was due 2025-02-03T10:00:00.000Z (support, high), held by Ann (ann)'],
        ['task', 'CSM task opened: Call back'],
        ['task', 'CSM task k1 assigned to Ann (ann, manual) by Carl (carl)'],
        ['task', 'CSM task closed: done, outcome: Bob renews for a year by Ann (ann)'],
      ]);
      expect(timeline[2].details).toEqual({
        conversationId: 'cv1',
        messageId: 'm1',
        channel: 'email',
        body: 'Why was I   charged twice?',
        providerId: '<a@mail>',
        sentiment: -0.4,
      });
      expect(timeline[3].details).toMatchObject({ automated: true, triggerId: 'billing', runId: 'r1' });
    });

    it('names members by id when their names are not known, and cuts long bodies', () => {
      const long = 'x'.repeat(200);
      const timeline = buildTimeline([
        recorded('ConversationStarted', { conversationId: 'cv2', channel: 'inbox' }, '2025-02-01T10:00:00Z'),
        recorded('CustomerReplied', { conversationId: 'cv2', messageId: 'm', channel: 'inbox', body: long }, '2025-02-01T10:00:00Z'),
        recorded(
          'ConversationAssigned',
          { conversationId: 'cv2', team: 'support', assignee: 'ann', priority: 'high', reason: 'least-loaded' },
          '2025-02-01T10:01:00Z',
        ),
        recorded('ConversationResolved', { conversationId: 'cv2', automated: true }, '2025-02-01T10:02:00Z'),
      ]);
      expect(timeline.map((t) => t.summary)).toEqual([
        'Conversation started on inbox by The customer',
        `The customer replied on inbox: ${'x'.repeat(79)}…`,
        'Assigned to ann (least-loaded) in support, high',
        'Resolved by automation',
      ]);
    });

    it('honours asOf: what was recorded after it (the tag, the reply, the resolution) is not shown', () => {
      const events = conversation();
      const view = buildTimeline(events, { asOf: new Date('2025-02-01T10:10:30Z'), members });
      expect(view.map((t) => t.type)).toEqual([
        'CustomerIdentified',
        'ConversationStarted',
        'CustomerReplied',
        'AgentReplied',
        'ConversationAssigned',
        'ConversationAssigned',
        'InternalNoteAdded',
      ]);
    });

    it('redacts bodies, notes, subjects, comments, outcomes and the name once the customer is forgotten, also in past views', () => {
      const events = [...conversation(), recorded('CustomerForgotten', { reason: 'gdpr' }, '2025-02-04T00:00:00Z')];
      const timeline = buildTimeline(events, { members });
      const text = JSON.stringify(timeline);
      for (const secret of ['Bob', 'charged', 'looking', 'Stripe', 'Refunded', 'Fast and kind', 'renews', 'Invoice', '<a@mail>'])
        expect(text).not.toContain(secret);
      expect(timeline.map((t) => t.summary)).toEqual(
        expect.arrayContaining([
          'Conversation started on email by The customer',
          'The customer replied on email',
          'Automation (trigger billing) replied on email',
          'Ann (ann) added an internal note',
          'The customer rated the conversation 5/5',
          'Reopened: the customer replied',
          'CSM task closed: done by Ann (ann)',
        ]),
      );
      expect(timeline.find((t) => t.type === 'CustomerReplied')!.details).toEqual({
        conversationId: 'cv1',
        messageId: 'm1',
        channel: 'email',
        sentiment: -0.4,
      });
      const past = JSON.stringify(buildTimeline(events, { asOf: new Date('2025-02-02T00:00:00Z'), members }));
      expect(past).not.toContain('charged');
    });
  });
});
