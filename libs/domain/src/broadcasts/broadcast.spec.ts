import { envelope } from '../envelope';
import type { EventDataByType, EventType, JourneyEvent } from '../events';
import {
  BroadcastCommandError,
  broadcastMessageId,
  countOutcome,
  decideBroadcast,
  decideForMember,
  decideWhenDue,
  emptyCounts,
  evolveBroadcast,
  foldBroadcast,
  initialBroadcastState,
  validateBroadcast,
  type BroadcastDefinition,
} from './broadcast';

const WS = 'acme';
const NOW = Date.parse('2026-12-09T12:00:00Z');
const PORTS = {
  channels: ['email', 'inbox'],
  checkTemplate: (s: string) => (s.includes('{% nope') ? 'tag "nope" not found' : undefined),
};

let n = 0;
function event<T extends EventType>(type: T, data: EventDataByType[T], customerId = 'c1', at = '2026-12-09T11:00:00Z'): JourneyEvent {
  return envelope({
    id: `e${++n}`,
    type,
    data,
    workspaceId: WS,
    customerId,
    occurredAt: at,
    recordedAt: at,
    source: 'test',
  }) as JourneyEvent;
}

const definition = (extra: Partial<BroadcastDefinition> = {}): BroadcastDefinition => ({
  broadcastId: 'b1',
  segmentId: 'trial',
  send: { channel: 'email', subject: 'News', body: 'Hi {{ customer.traits.name }}' },
  ...extra,
});

/** A broadcast as scheduled (the data of its BroadcastScheduled). */
function scheduled(extra: Partial<BroadcastDefinition> = {}, startAt = NOW): EventDataByType['BroadcastScheduled'] {
  const [e] = decideBroadcast({ type: 'ScheduleBroadcast', definition: definition(extra), startAt }, initialBroadcastState('b1'), {
    workspaceId: WS,
    now: new Date(NOW),
  });
  return e.data as EventDataByType['BroadcastScheduled'];
}

const member = (traits: Record<string, unknown> = {}, customerId = 'c1') => [
  event('CustomerIdentified', { userId: customerId, traits }, customerId),
  event('SegmentEntered', { segmentId: 'trial', version: 1 }, customerId),
];
const start = event('TimerFired', { timerId: 't-start', purpose: 'broadcast:b1' }, '');
const ctx = (customerId = 'c1', now = NOW) => ({ workspaceId: WS, customerId, now: new Date(now), cause: start });

describe('validateBroadcast', () => {
  const valid = { segmentId: 'trial', send: { channel: 'email', body: 'Hi' } };

  it('accepts a broadcast now: it starts now', () => {
    const r = validateBroadcast(valid, PORTS, NOW);
    expect(r).toMatchObject({ ok: true, startAt: NOW, definition: { segmentId: 'trial', send: { channel: 'email', body: 'Hi' } } });
  });

  it('names every problem: bad channel, bad template, bad cap scope, unknown fields', () => {
    const r = validateBroadcast(
      {
        segmentId: 'trial',
        send: { channel: 'fax', body: 'Hi {% nope %}' },
        guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'trigger' }] },
        colour: 'red',
      },
      PORTS,
      NOW,
    );
    expect(r.ok).toBe(false);
    const errors = (r as { errors: string[] }).errors.join('\n');
    expect(errors).toMatch(/colour: unknown field/);
    expect(errors).toMatch(/guards\.frequencyCaps\[0\]\.scope/);
    const second = validateBroadcast({ segmentId: 'trial', send: { channel: 'fax', body: 'Hi {% nope %}' } }, PORTS, NOW);
    const text = (second as { errors: string[] }).errors.join('\n');
    expect(text).toMatch(/^send\.channel: unknown channel "fax"/m);
    expect(text).toMatch(/^send\.body: .*nope/m);
  });

  it('refuses a time in the past: `at`, and a `localTime` that has passed in every zone', () => {
    expect(validateBroadcast({ ...valid, at: '2026-12-08T12:00:00Z' }, PORTS, NOW)).toEqual({
      ok: false,
      errors: ['at: 2026-12-08T12:00:00Z is in the past (now is 2026-12-09T12:00:00.000Z)'],
    });
    expect(validateBroadcast({ ...valid, localTime: '2026-12-08T09:00' }, PORTS, NOW)).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^localTime: 2026-12-08T09:00 has passed in every time zone/)],
    });
    expect(validateBroadcast({ ...valid, at: 'tomorrow' }, PORTS, NOW)).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^at: expected/)],
    });
    expect(validateBroadcast({ ...valid, at: '2026-12-10T09:00:00Z', localTime: '2026-12-10T09:00' }, PORTS, NOW)).toMatchObject({
      ok: false,
      errors: ['at, localTime: give one of them (or neither: now)'],
    });
  });

  it('starts a local-time broadcast when that time comes in the first zone (UTC+14)', () => {
    const r = validateBroadcast({ ...valid, localTime: '2026-12-10T09:00' }, PORTS, NOW);
    expect(r).toMatchObject({ ok: true, startAt: Date.parse('2026-12-09T19:00:00Z') });
  });
});

describe('the broadcast decider', () => {
  const context = { workspaceId: WS, now: new Date(NOW), by: 'http:csm' };

  it('given nothing, when scheduled, then BroadcastScheduled and its start timer, due at startAt', () => {
    const events = decideBroadcast(
      { type: 'ScheduleBroadcast', definition: definition(), startAt: NOW + 60_000 },
      initialBroadcastState('b1'),
      context,
    );
    expect(events.map((e) => e.type)).toEqual(['BroadcastScheduled', 'TimerScheduled']);
    expect(events[1].data).toMatchObject({ dueAt: '2026-12-09T12:01:00.000Z', purpose: 'broadcast:b1' });
    const state = foldBroadcast('b1', events);
    expect(state).toMatchObject({ status: 'scheduled', started: false, revision: 2 });
    expect(() => decideBroadcast({ type: 'ScheduleBroadcast', definition: definition(), startAt: NOW }, state, context)).toThrow(
      BroadcastCommandError,
    );
  });

  it('given a scheduled broadcast, when cancelled, then BroadcastCancelled and its start timer cancelled', () => {
    const state = foldBroadcast(
      'b1',
      decideBroadcast({ type: 'ScheduleBroadcast', definition: definition(), startAt: NOW + 60_000 }, initialBroadcastState('b1'), context),
    );
    const events = decideBroadcast({ type: 'CancelBroadcast' }, state, context);
    expect(events.map((e) => e.type)).toEqual(['BroadcastCancelled', 'TimerCancelled']);
    const after = events.reduce(evolveBroadcast, state);
    expect(after.status).toBe('cancelled');
    expect(() => decideBroadcast({ type: 'CancelBroadcast' }, after, context)).toThrow(/already cancelled/);
  });

  it('given a completed broadcast now, cancel is refused; a local-time one may be cancelled until its time has come everywhere', () => {
    const now = [
      ...decideBroadcast({ type: 'ScheduleBroadcast', definition: definition(), startAt: NOW }, initialBroadcastState('b1'), context),
    ];
    const done = event('BroadcastCompleted', { broadcastId: 'b1', counts: emptyCounts() }, '');
    expect(() => decideBroadcast({ type: 'CancelBroadcast' }, foldBroadcast('b1', [...now, done]), context)).toThrow(/has completed/);
    const local = decideBroadcast(
      { type: 'ScheduleBroadcast', definition: definition({ localTime: '2026-12-10T09:00' }), startAt: NOW },
      initialBroadcastState('b1'),
      context,
    );
    expect(decideBroadcast({ type: 'CancelBroadcast' }, foldBroadcast('b1', [...local, done]), context).map((e) => e.type)).toEqual([
      'BroadcastCancelled',
      'TimerCancelled',
    ]);
  });
});

describe('deciding for a member', () => {
  it('given a subscribed member, then MessageScheduled through the guards, one message id per broadcast and customer', () => {
    const d = decideForMember(scheduled(), member({ name: 'Ann' }), ctx());
    expect(d.outcome).toEqual({ kind: 'scheduled' });
    expect(d.events).toHaveLength(1);
    expect(d.events[0]).toMatchObject({
      type: 'MessageScheduled',
      data: {
        messageId: broadcastMessageId(WS, 'b1', 'c1'),
        channel: 'email',
        broadcastId: 'b1',
        template: { subject: 'News', body: 'Hi {{ customer.traits.name }}' },
        guards: [expect.objectContaining({ guard: 'consent', verdict: 'passed' }), expect.objectContaining({ guard: 'priority' })],
      },
      metadata: { causationId: start.id, source: 'reactor:broadcasts' },
    });
    expect(decideForMember(scheduled(), member({ name: 'Ann' }), ctx()).events[0].id).toBe(d.events[0].id);
  });

  it('given an unsubscribed member, then MessageSuppressed for consent', () => {
    const d = decideForMember(scheduled(), member({ unsubscribed: true }), ctx());
    expect(d.outcome).toEqual({ kind: 'suppressed', reason: 'consent' });
    expect(d.events[0]).toMatchObject({ type: 'MessageSuppressed', data: { reason: 'consent', broadcastId: 'b1' } });
  });

  it('given a member over a frequency cap, then MessageSuppressed frequency-cap', () => {
    const prior = event('MessageScheduled', { messageId: 'm0', channel: 'email', template: { body: 'x' } }, 'c1', '2026-12-09T10:00:00Z');
    const b = scheduled({ guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }] } });
    const d = decideForMember(b, [...member(), prior], ctx());
    expect(d.events[0]).toMatchObject({ type: 'MessageSuppressed', data: { reason: 'frequency-cap' } });
    expect(decideForMember(b, member(), ctx()).outcome).toEqual({ kind: 'scheduled' });
  });

  it('given quiet hours in the member’s zone, then the message waits for their end', () => {
    const b = scheduled({ guards: { quietHours: { start: '21:00', end: '08:00' } } });
    const d = decideForMember(b, member({ timezone: 'Asia/Tokyo' }), ctx()); // 21:00 in Tokyo
    expect(d.events[0].data).toMatchObject({ notBefore: '2026-12-09T23:00:00.000Z' });
  });

  it('given a member whose stream says they left the segment, then skipped; one reached already, then nothing again', () => {
    const left = [...member(), event('SegmentLeft', { segmentId: 'trial', version: 1, reason: 'condition' })];
    expect(decideForMember(scheduled(), left, ctx())).toEqual({ events: [], outcome: { kind: 'skipped' } });
    const first = decideForMember(scheduled(), member({ unsubscribed: true }), ctx());
    const again = decideForMember(scheduled(), [...member(), ...first.events], ctx());
    expect(again).toEqual({ events: [], outcome: { kind: 'suppressed', reason: 'consent' } });
  });

  it('given a local-time broadcast, then a timer at 09:00 in each member’s own zone', () => {
    const b = scheduled({ localTime: '2026-12-10T09:00' });
    const berlin = decideForMember(b, member({ timezone: 'Europe/Berlin' }), ctx());
    const ny = decideForMember(b, member({ timezone: 'America/New_York' }, 'c2'), ctx('c2'));
    expect(berlin.events[0]).toMatchObject({
      type: 'TimerScheduled',
      data: { dueAt: '2026-12-10T08:00:00.000Z', purpose: 'broadcast:b1' },
    });
    expect(ny.events[0]).toMatchObject({ type: 'TimerScheduled', data: { dueAt: '2026-12-10T14:00:00.000Z' } });
    expect(countOutcome(countOutcome(emptyCounts(), berlin.outcome), ny.outcome)).toMatchObject({ targeted: 2, timers: 2 });
  });

  it('given a local time already past in the member’s zone, then MessageSuppressed local-time-passed (never a late send)', () => {
    const b = scheduled({ localTime: '2026-12-10T09:00' });
    const d = decideForMember(b, member({ timezone: 'Pacific/Kiritimati' }), ctx('c1', Date.parse('2026-12-09T20:00:00Z')));
    expect(d.events[0]).toMatchObject({ type: 'MessageSuppressed', data: { reason: 'local-time-passed' } });
  });

  it('when a member’s timer fires: the message; cancelled meanwhile: broadcast-cancelled; fired again: nothing', () => {
    const b = scheduled({ localTime: '2026-12-10T09:00' });
    const timer = decideForMember(b, member({ timezone: 'Europe/Berlin' }), ctx()).events;
    const fired = event('TimerFired', { timerId: String(timer[0].data.timerId), purpose: 'broadcast:b1' }, 'c1', '2026-12-10T08:00:00Z');
    const stream = [...member({ timezone: 'Europe/Berlin' }), ...timer, fired];
    const due = { ...ctx('c1', Date.parse('2026-12-10T08:00:00Z')), cause: fired };
    const sent = decideWhenDue(b, false, stream, due);
    expect(sent).toMatchObject([{ type: 'MessageScheduled', data: { broadcastId: 'b1' }, metadata: { causationId: fired.id } }]);
    expect(decideWhenDue(b, true, stream, due)).toMatchObject([{ type: 'MessageSuppressed', data: { reason: 'broadcast-cancelled' } }]);
    expect(decideWhenDue(b, false, [...stream, ...sent], due)).toEqual([]);
  });
});
