import { describe, expect, it } from 'vitest';
import {
  asOfAt,
  EMPTY_FILTERS,
  filtersFromParams,
  filtersToParams,
  messageIdOf,
  parseTypedTime,
  searchQuery,
  shapeExplain,
  shouldLoadMore,
  sliderPositions,
  sliderValue,
  sortOptions,
  stageHistory,
  timeBounds,
  timelineRows,
  totalLabel,
  traitParam,
  whyNotSummary,
  type MessageExplanation,
  type TimelineEntry,
  type WhyNotAnswer,
} from './logic';

const entry = (eventId: string, occurredAt: string, patch: Partial<TimelineEntry> = {}): TimelineEntry => ({
  eventId,
  position: eventId,
  type: 'InteractionRecorded',
  kind: 'interaction',
  occurredAt,
  recordedAt: occurredAt,
  summary: `event ${eventId}`,
  details: {},
  ...patch,
});

describe('search filters ↔ URL ↔ API query', () => {
  it('maps every filter to the search API parameters and leaves defaults and blanks out', () => {
    const q = searchQuery({
      ...EMPTY_FILTERS,
      idPrefix: ' bo ',
      stages: ['active', 'none'],
      segments: ['power'],
      lastSeenAfter: '2026-01-01',
      healthMin: '40',
      traits: [
        { name: 'plan', op: 'eq', value: 'pro' },
        { name: 'seats', op: 'gte', value: '10' },
        { name: 'empty', op: 'eq', value: ' ' },
      ],
      sort: 'lastSeen',
      order: 'desc',
    });
    expect(q).toEqual({
      idPrefix: 'bo',
      stage: 'active,none',
      segment: ['power'],
      'lastSeen.after': '2026-01-01',
      'health.min': '40',
      'trait.plan': 'pro',
      'trait.seats.gte': '10',
      sort: 'lastSeen',
      order: 'desc',
    });
    expect(searchQuery(EMPTY_FILTERS)).toEqual({});
  });

  it('reads back from the URL what it wrote (round trip)', () => {
    const f = {
      ...EMPTY_FILTERS,
      idPrefix: 'ada',
      stages: ['renewal'],
      segments: ['a', 'b'],
      lastSeenBefore: '2026-02-01',
      healthMax: '70',
      traits: [
        { name: 'plan', op: 'eq' as const, value: 'pro' },
        { name: 'renewsAt', op: 'lt' as const, value: '2026-06-01' },
      ],
      sort: 'trait.renewsAt',
      order: 'desc' as const,
    };
    const params = filtersToParams(f);
    expect(params.getAll('segment')).toEqual(['a', 'b']);
    expect(params.get('trait.renewsAt.lt')).toBe('2026-06-01');
    expect(filtersFromParams(new URLSearchParams(params.toString()))).toEqual(f);
  });

  it('writes eq explicitly for a trait whose name ends like an operator', () => {
    expect(traitParam({ name: 'plan', op: 'eq' })).toBe('trait.plan');
    expect(traitParam({ name: 'limits.gt', op: 'eq' })).toBe('trait.limits.gt.eq');
    expect(filtersFromParams(new URLSearchParams('trait.limits.gt.eq=5')).traits).toEqual([{ name: 'limits.gt', op: 'eq', value: '5' }]);
  });

  it('offers sorting by the traits filtered on', () => {
    const options = sortOptions({ ...EMPTY_FILTERS, traits: [{ name: 'seats', op: 'gte', value: '1' }] }).map((o) => o.value);
    expect(options).toEqual(['id', 'lastSeen', 'health', 'trait.seats']);
  });

  it('loads the next page only near the end, once, while there is more', () => {
    expect(shouldLoadMore(80, 100, true, false)).toBe(true);
    expect(shouldLoadMore(40, 100, true, false)).toBe(false);
    expect(shouldLoadMore(99, 100, false, false)).toBe(false);
    expect(shouldLoadMore(99, 100, true, true)).toBe(false);
    expect(shouldLoadMore(undefined, 100, true, false)).toBe(false);
  });

  it('says how many matched, capped or not', () => {
    expect(totalLabel(100000, true, 100)).toBe('100,000+ customers');
    expect(totalLabel(1, false, 1)).toBe('1 customer');
    expect(totalLabel(undefined, undefined, 300)).toBe('300 loaded');
  });
});

describe('the as-of slider', () => {
  const entries = [
    entry('1', '2026-03-01T10:00:00.000Z', { recordedAt: '2026-03-01T10:00:00.500Z' }),
    entry('2', '2026-03-01T09:00:00.000Z', { recordedAt: '2026-03-01T10:10:00.500Z' }),
  ];
  const b = timeBounds(entries)!;

  it('spans the first to the last recorded time (asOf is recorded time)', () => {
    expect(b).toEqual({ first: Date.parse('2026-03-01T10:00:00.500Z'), last: Date.parse('2026-03-01T10:10:00.500Z') });
    expect(timeBounds([])).toBeUndefined();
  });

  it('has a step a second, at most 1,000, at least one', () => {
    expect(sliderPositions(b)).toBe(600);
    expect(sliderPositions({ first: 0, last: 86_400_000 })).toBe(1000);
    expect(sliderPositions({ first: 5, last: 5 })).toBe(1);
  });

  it('is live (no asOf) at its end, the first event at its start, a time in between', () => {
    expect(asOfAt(b, 600)).toBeUndefined();
    expect(asOfAt(b, 0)).toBe('2026-03-01T10:00:00.500Z');
    expect(asOfAt(b, -3)).toBe('2026-03-01T10:00:00.500Z');
    expect(asOfAt(b, 60)).toBe('2026-03-01T10:01:00.500Z');
  });

  it('places an asOf at its nearest position', () => {
    expect(sliderValue(b, undefined)).toBe(600);
    expect(sliderValue(b, '2026-03-01T10:03:00.500Z')).toBe(180);
    expect(sliderValue(b, '2020-01-01T00:00:00Z')).toBe(0);
    expect(sliderValue(b, '2030-01-01T00:00:00Z')).toBe(600);
    expect(asOfAt(b, sliderValue(b, '2026-03-01T10:03:00.500Z'))).toBe('2026-03-01T10:03:00.500Z');
  });

  it('reads typed times as UTC unless they say otherwise, and refuses others in words', () => {
    expect(parseTypedTime('2026-03-01T10:00')).toEqual({ iso: '2026-03-01T10:00:00.000Z' });
    expect(parseTypedTime('2026-03-01 10:00:30')).toEqual({ iso: '2026-03-01T10:00:30.000Z' });
    expect(parseTypedTime('2026-03-01')).toEqual({ iso: '2026-03-01T00:00:00.000Z' });
    expect(parseTypedTime('2026-03-01T10:00:00+02:00')).toEqual({ iso: '2026-03-01T08:00:00.000Z' });
    expect(parseTypedTime('yesterday')).toHaveProperty('error', expect.stringContaining('not a date-time'));
  });
});

describe('the timeline', () => {
  it('lists newest first with a row per day', () => {
    const rows = timelineRows([entry('a', '2026-03-01T10:00:00Z'), entry('b', '2026-03-02T09:00:00Z'), entry('c', '2026-03-02T11:00:00Z')]);
    expect(rows.map((r) => (r.type === 'day' ? 'day' : r.entry.eventId))).toEqual(['day', 'c', 'b', 'day', 'a']);
    const days = rows.flatMap((r) => (r.type === 'day' ? [r.label] : []));
    expect(days[0]).toMatch(/^Mon,? 2 Mar 2026$/);
    expect(days[1]).toMatch(/^Sun,? 1 Mar 2026$/);
  });

  it('links message entries to their message', () => {
    expect(messageIdOf(entry('m', '2026-03-01T10:00:00Z', { kind: 'message', details: { messageId: 'msg-1' } }))).toBe('msg-1');
    expect(messageIdOf(entry('x', '2026-03-01T10:00:00Z', { details: { messageId: 'msg-1' } }))).toBeUndefined();
  });

  it('picks the stage changes out', () => {
    const history = stageHistory([
      entry('1', '2026-03-01T10:00:00Z', {
        type: 'StageChanged',
        kind: 'stage',
        details: { from: null, to: 'onboarding', reason: 'identified' },
      }),
      entry('2', '2026-03-02T10:00:00Z'),
      entry('3', '2026-03-03T10:00:00Z', {
        type: 'StageChanged',
        kind: 'stage',
        details: { from: 'onboarding', to: 'active', reason: 'activated' },
      }),
    ]);
    expect(history).toEqual([
      { at: '2026-03-01T10:00:00Z', from: '—', to: 'onboarding', reason: 'identified' },
      { at: '2026-03-03T10:00:00Z', from: 'onboarding', to: 'active', reason: 'activated' },
    ]);
  });
});

describe('explain and why-not', () => {
  const explanation: MessageExplanation = {
    messageId: 'm1',
    customerId: 'bob',
    channel: 'inbox',
    status: 'delivered',
    decision: { event: { id: 'e3', type: 'TimerFired' }, outcome: 'scheduled' },
    causedBy: [
      { id: 'e3', type: 'TimerFired' },
      { id: 'e1', type: 'CustomerIdentified' },
    ],
    trigger: { id: 'nudge', name: 'Nudge', version: 2, step: 'steps[0]', run: [] },
    guards: [
      { guard: 'consent', verdict: 'passed', detail: 'ok' },
      { guard: 'quiet-hours', verdict: 'deferred', detail: 'until 08:00' },
    ],
    delivery: [{ id: 'd1', type: 'MessageDelivered' }],
  };

  it('heads with the outcome and the trigger version, causes from the root', () => {
    const s = shapeExplain(explanation);
    expect(s.headline).toBe('Scheduled via inbox, now delivered — by trigger Nudge (nudge) v2');
    expect(s.chain.map((e) => e.id)).toEqual(['e1', 'e3']);
    expect(explanation.causedBy[0].id).toBe('e3'); // not reversed in place
    expect(s.guardsSummary).toBe('1 of 2 guards passed');
    expect(s.firstBlocking?.guard).toBe('quiet-hours');
  });

  it('says a suppression and its reason', () => {
    const s = shapeExplain({
      ...explanation,
      decision: { ...explanation.decision, outcome: 'suppressed', reason: 'frequency-cap', detail: '1 per day' },
    });
    expect(s.headline).toMatch(/^Suppressed: frequency-cap \(1 per day\)/);
  });

  const answer: WhyNotAnswer = {
    customerId: 'ada',
    triggerId: 'nudge',
    version: 1,
    asOf: '2026-03-01T10:00:00Z',
    got: false,
    code: 'entry-not-met',
    reason: 'Activated happened within 2s',
    events: [],
    checks: [
      { check: 'defined', passed: true, text: 'v1' },
      { check: 'entry', passed: false, text: 'Activated at 10:00:01' },
      { check: 'guards', passed: false, text: 'not reached' },
    ],
  };

  it('names the first check that kept the customer out', () => {
    const s = whyNotSummary(answer);
    expect(s.blocking?.check).toBe('entry');
    expect(s.tone).toBe('danger');
    expect(s.headline).toBe('Kept out (entry-not-met): Activated happened within 2s');
    expect(whyNotSummary({ ...answer, got: true, code: 'sent', reason: 'message m1' }).tone).toBe('ok');
  });
});
