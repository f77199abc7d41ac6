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
});
