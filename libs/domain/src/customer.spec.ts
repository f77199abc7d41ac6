import { customerHealth, evolveCustomer, foldCustomer, initialCustomerState, type CustomerState } from './customer';
import type { EventDataByType, EventType, JourneyEvent } from './events';

let seq = 0;
function event<T extends EventType>(type: T, data: EventDataByType[T], occurredAt = '2025-01-01T10:00:00.000Z'): JourneyEvent {
  seq += 1;
  return {
    id: `e${seq}`,
    type,
    data: data as never,
    metadata: { workspaceId: 'w', customerId: 'c1', occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
  };
}

/** Given events, when folded, then the state. */
const given = (...events: JourneyEvent[]): CustomerState => foldCustomer('w', 'c1', events);

describe('customer state (evolveCustomer)', () => {
  it('starts unidentified and enters onboarding when identified, merging traits', () => {
    expect(initialCustomerState('w', 'c1')).toMatchObject({ stage: null, traits: {}, firstSeen: null, health: 50 });
    const s = given(
      event('CustomerIdentified', { userId: 'c1', traits: { email: 'a@x.io', plan: 'free' } }, '2025-01-01T09:00:00Z'),
      event('TraitsUpdated', { traits: { plan: 'pro', seats: 3 } }),
    );
    expect(s.stage).toBe('onboarding');
    expect(s.stageSince).toBe('2025-01-01T09:00:00.000Z');
    expect(s.traits).toEqual({ email: 'a@x.io', plan: 'pro', seats: 3 });
  });

  it('keeps the segments the customer is in: entered and not left since, once each, in order of entry', () => {
    expect(initialCustomerState('w', 'c1').segments).toEqual([]);
    const s = given(
      event('SegmentEntered', { segmentId: 'beta', version: 1 }),
      event('SegmentEntered', { segmentId: 'trial', version: 1 }),
      event('SegmentEntered', { segmentId: 'beta', version: 2 }), // already in: no change
      event('SegmentLeft', { segmentId: 'trial', version: 1, reason: 'conditions' }),
      event('SegmentLeft', { segmentId: 'never', version: 1, reason: 'conditions' }),
      event('SegmentEntered', { segmentId: 'at-risk', version: 1 }),
    );
    expect(s.segments).toEqual(['beta', 'at-risk']);
    const before = given(event('SegmentEntered', { segmentId: 'beta', version: 1 }));
    expect(evolveCustomer(before, event('SegmentEntered', { segmentId: 'beta', version: 1 }))).toBe(before);
  });

  it('follows StageChanged, and a later identify does not reset the stage', () => {
    const s = given(
      event('CustomerIdentified', { userId: 'c1', traits: {} }),
      event('StageChanged', { from: 'onboarding', to: 'active', reason: 'activated' }, '2025-01-03T00:00:00Z'),
      event('CustomerIdentified', { userId: 'c1', traits: { name: 'Ada' } }),
    );
    expect(s.stage).toBe('active');
    expect(s.stageSince).toBe('2025-01-03T00:00:00.000Z');
  });

  it('counts interactions by event name and page views', () => {
    const s = given(
      event('InteractionRecorded', { event: 'Report Created', properties: {} }),
      event('InteractionRecorded', { event: 'Report Created', properties: {} }),
      event('InteractionRecorded', { event: 'Invite Sent', properties: {} }),
      event('PageViewed', { kind: 'page', name: 'Pricing', properties: {} }),
    );
    expect(s.interactions).toEqual({ total: 3, byEvent: { 'Report Created': 2, 'Invite Sent': 1 } });
    expect(s.pageViews).toBe(1);
  });

  it('takes firstSeen / lastSeen from event time of activity, so a late event moves firstSeen back', () => {
    const s = given(
      event('InteractionRecorded', { event: 'A', properties: {} }, '2025-02-10T00:00:00Z'),
      event('PageViewed', { kind: 'page', properties: {} }, '2025-02-12T00:00:00+02:00'),
      event('InteractionRecorded', { event: 'late', properties: {} }, '2025-02-01T00:00:00Z'),
      // not activity: does not move lastSeen
      event('MessageSent', { messageId: 'm', channel: 'email', attempt: 1 }, '2025-03-01T00:00:00Z'),
    );
    expect(s.firstSeen).toBe('2025-02-01T00:00:00.000Z');
    expect(s.lastSeen).toBe('2025-02-11T22:00:00.000Z');
  });

  it('counts messages by outcome', () => {
    const s = given(
      event('MessageScheduled', { messageId: 'm1', channel: 'email', template: { body: 'hi' } }),
      event('MessageSent', { messageId: 'm1', channel: 'email', attempt: 1 }),
      event('MessageDelivered', { messageId: 'm1', channel: 'email', attempt: 1 }),
      event('MessageOpened', { messageId: 'm1' }),
      event('MessageClicked', { messageId: 'm1' }),
      event('MessageScheduled', { messageId: 'm2', channel: 'email', template: { body: 'hi' } }),
      event('MessageSuppressed', { messageId: 'm2', channel: 'email', reason: 'cap' }),
      event('MessageFailed', { messageId: 'm3', channel: 'webhook', attempts: 3, error: 'timeout' }),
    );
    expect(s.messages).toEqual({ scheduled: 2, sent: 1, delivered: 1, failed: 1, suppressed: 1, opened: 1, clicked: 1 });
  });

  it('keeps open CSM tasks until closed, ignoring a duplicate open and a close of an unknown task', () => {
    const opened = event('CsmTaskOpened', { taskId: 't1', title: 'Call them', owner: 'ana', priority: 'high' }, '2025-01-05T00:00:00Z');
    const s = given(
      opened,
      opened,
      event('CsmTaskOpened', { taskId: 't2', title: 'Renewal', priority: 'normal', dueAt: '2025-02-01T00:00:00Z' }),
      event('CsmTaskClosed', { taskId: 't1', resolution: 'done' }),
      event('CsmTaskClosed', { taskId: 'nope', resolution: 'done' }),
    );
    expect(s.openTasks).toEqual([
      { taskId: 't2', title: 'Renewal', priority: 'normal', dueAt: '2025-02-01T00:00:00Z', openedAt: '2025-01-01T10:00:00.000Z' },
    ]);
    expect(s.closedTasks).toBe(1);
  });

  it('links accounts and records aliases', () => {
    const s = given(
      event('AccountLinked', { groupId: 'acme', traits: { plan: 'enterprise' } }),
      event('AccountLinked', { groupId: 'acme', traits: { seats: 50 } }),
      event('IdentitiesMerged', { previousId: 'anon-1', userId: 'c1' }),
    );
    expect(s.accounts).toEqual(['acme']);
    expect(s.accountTraits).toEqual({ acme: { plan: 'enterprise', seats: 50 } });
    expect(s.aliases).toEqual(['anon-1']);
  });

  it('erases personal data when forgotten and ignores later traits', () => {
    const s = given(
      event('CustomerIdentified', { userId: 'c1', traits: { email: 'a@x.io' } }),
      event('AccountLinked', { groupId: 'acme', traits: { plan: 'x' } }),
      event('CustomerForgotten', { reason: 'request' }),
      event('TraitsUpdated', { traits: { email: 'again@x.io' } }),
    );
    expect(s).toMatchObject({ forgotten: true, traits: {}, accountTraits: {}, aliases: [], stage: 'onboarding' });
  });

  it('ignores events it does not project (timers) without changing the state object', () => {
    const s = given(event('CustomerIdentified', { userId: 'c1', traits: {} }));
    expect(evolveCustomer(s, event('TimerScheduled', { timerId: 't', dueAt: '2025-01-02T00:00:00Z', purpose: 'x' }))).toBe(s);
  });

  describe('health', () => {
    it('is the stage base plus activity and engagement, minus open tasks and failures, within 0..100', () => {
      const active = given(
        event('CustomerIdentified', { userId: 'c1', traits: {} }),
        event('StageChanged', { from: 'onboarding', to: 'active', reason: 'r' }),
      );
      expect(active.health).toBe(80);
      const busy = given(
        event('CustomerIdentified', { userId: 'c1', traits: {} }),
        event('StageChanged', { from: 'onboarding', to: 'active', reason: 'r' }),
        ...Array.from({ length: 250 }, () => event('InteractionRecorded', { event: 'x', properties: {} })),
        event('MessageOpened', { messageId: 'm' }),
      );
      expect(busy.health).toBe(100);
      const troubled = given(
        event('StageChanged', { from: null, to: 'at-risk', reason: 'inactive' }),
        event('CsmTaskOpened', { taskId: 't1', title: 'a', priority: 'high' }),
        event('CsmTaskOpened', { taskId: 't2', title: 'b', priority: 'high' }),
        event('MessageFailed', { messageId: 'm', channel: 'email', attempts: 3, error: 'bounce' }),
      );
      expect(troubled.health).toBe(30 - 20 - 5);
      const churned = given(
        event('StageChanged', { from: 'active', to: 'churned', reason: 'cancelled' }),
        event('CsmTaskOpened', { taskId: 't', title: 'a', priority: 'p' }),
      );
      expect(churned.health).toBe(0);
      expect(customerHealth(churned)).toBe(churned.health);
    });
  });
});
