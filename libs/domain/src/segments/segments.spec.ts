import { typed, type JourneyEvent } from '../events';
import { envelope } from '../envelope';
import { History, enabledProgram } from '../triggers/testing';
import { decideOnView, emptyCustomerView, timerFired } from '../triggers/customer';
import { compileSignal } from '../triggers/conditions';
import { validateTrigger } from '../triggers/validate';
import { decideSegment, evolveSegment, initialSegmentState, SegmentCommandError } from './definition';
import { InvalidSegmentError, validateSegment, type SegmentDefinition } from './schema';
import {
  applyToSegmentView,
  backfillPage,
  compileSegment,
  decideSegments,
  emptySegmentView,
  type CompiledSegment,
  type SegmentView,
} from './membership';

const ACTIVE_PRO: SegmentDefinition = {
  id: 'active-pro',
  name: 'Active pro',
  conditions: { all: [{ traits: { plan: 'pro' } }, { count: { event: 'Feature Used', within: '7d', gte: 3 } }] },
};
const t = (iso: string) => new Date(iso);

/** Decides each input at its event time, as the reactor would; returns everything decided, and the view. */
function run(segments: CompiledSegment[], inputs: JourneyEvent[], view: SegmentView = emptySegmentView()) {
  const decided: JourneyEvent[] = [];
  for (const input of inputs) decided.push(...decideSegments(segments, view, input, t(input.metadata.occurredAt)));
  return { decided, view };
}
const kinds = (events: JourneyEvent[]) =>
  events.map((e) => {
    const x = typed(e);
    if (x.type === 'SegmentEntered') return `entered ${x.data.segmentId}`;
    if (x.type === 'SegmentLeft') return `left ${x.data.segmentId} (${x.data.reason})`;
    if (x.type === 'TimerScheduled') return `timer ${x.data.purpose} at ${x.data.dueAt}`;
    if (x.type === 'TimerCancelled') return 'timer cancelled';
    return e.type;
  });

describe('segment documents', () => {
  it('accepts a state built from the trigger language', () => {
    expect(validateSegment(ACTIVE_PRO)).toEqual({ ok: true, definition: ACTIVE_PRO });
    const ok = validateSegment({
      id: 'quiet',
      name: 'Quiet enterprise',
      conditions: {
        any: [
          { inactive: { for: '14d' } },
          { absent: { event: 'Activated', for: '3d', after: { event: 'Signed Up' } } },
          { usageDrop: { window: '7d', baseline: '28d', below: 0.5 } },
          {
            all: [
              { account: { plan: 'enterprise' } },
              { not: { inStage: 'churned' } },
              { sum: { event: 'Paid', property: 'amount', within: '30d', gt: 10 } },
            ],
          },
        ],
      },
    });
    expect(ok.ok).toBe(true);
  });

  it('names the path of every error, and refuses moments with what to use instead', () => {
    const r = validateSegment({
      id: 'bad id!',
      conditions: {
        all: [
          { event: 'Clicked' },
          { count: { event: 'X', within: 'soon', gte: 1 } },
          { inSegment: 'other' },
          { traits: { plan: { nope: 1 } } },
        ],
      },
      colour: 'red',
    });
    expect(r.ok).toBe(false);
    const errors = (r as { errors: Array<{ path: string; message: string }> }).errors;
    expect(errors.map((e) => e.path)).toEqual([
      'name',
      'colour',
      'id',
      'conditions.all[0].event',
      'conditions.all[1].count.within',
      'conditions.all[2].inSegment',
      'conditions.all[3].traits.plan.nope',
    ]);
    expect(errors[3].message).toMatch(/moment, not a state: count it in a window/);
    expect(errors[4].message).toMatch(/expected a duration like "3d", got "soon"/);
  });
});

describe('segment definitions (segment-<ws>-<id>)', () => {
  const ctx = { workspaceId: 'ws', now: t('2026-03-01T00:00:00Z'), by: 'http:csm' };

  it('given nothing, when defined, then version 1; the same document again changes nothing; a change is version 2', () => {
    let state = initialSegmentState('active-pro');
    const v1 = decideSegment({ type: 'DefineSegment', definition: ACTIVE_PRO }, state, ctx);
    expect(v1.map((e) => [e.type, e.data.version])).toEqual([['SegmentDefined', 1]]);
    state = v1.reduce(evolveSegment, state);
    expect(decideSegment({ type: 'DefineSegment', definition: ACTIVE_PRO }, state, ctx)).toEqual([]);
    const v2 = decideSegment({ type: 'DefineSegment', definition: { ...ACTIVE_PRO, name: 'Active pros' } }, state, ctx);
    state = v2.reduce(evolveSegment, state);
    expect(state).toMatchObject({ version: 2, removed: false, revision: 2 });
    expect(state.definitions[1].name).toBe('Active pro');
  });

  it('refuses an invalid document with every error, another id, and removing what was never defined', () => {
    const state = initialSegmentState('active-pro');
    expect(() =>
      decideSegment({ type: 'DefineSegment', definition: { id: 'active-pro', name: 'x', conditions: { nope: 1 } } }, state, ctx),
    ).toThrow(InvalidSegmentError);
    expect(() => decideSegment({ type: 'DefineSegment', definition: { ...ACTIVE_PRO, id: 'other' } }, state, ctx)).toThrow(
      /id: expected "active-pro"/,
    );
    expect(() => decideSegment({ type: 'RemoveSegment' }, state, ctx)).toThrow(SegmentCommandError);
  });

  it('given a defined segment, when removed, then SegmentRemoved once; defined again, a new version', () => {
    let state = decideSegment({ type: 'DefineSegment', definition: ACTIVE_PRO }, initialSegmentState('active-pro'), ctx).reduce(
      evolveSegment,
      initialSegmentState('active-pro'),
    );
    const removed = decideSegment({ type: 'RemoveSegment' }, state, ctx);
    expect(removed.map((e) => e.type)).toEqual(['SegmentRemoved']);
    state = removed.reduce(evolveSegment, state);
    expect(decideSegment({ type: 'RemoveSegment' }, state, ctx)).toEqual([]);
    const again = decideSegment({ type: 'DefineSegment', definition: ACTIVE_PRO }, state, ctx);
    expect(again.reduce(evolveSegment, state)).toMatchObject({ version: 2, removed: false });
  });
});

describe('segment membership (decideSegments)', () => {
  const segment = compileSegment(ACTIVE_PRO, 1);

  it('given a pro customer, when the third Feature Used comes within 7 days, then SegmentEntered and a timer at the first drop-out', () => {
    const h = new History('c1');
    const { decided } = run(
      [segment],
      [
        h.identify('2026-03-01T10:00:00.000Z', { plan: 'pro' }),
        h.track('2026-03-01T11:00:00.000Z', 'Feature Used'),
        h.track('2026-03-02T11:00:00.000Z', 'Feature Used'),
        h.track('2026-03-03T11:00:00.000Z', 'Feature Used'),
      ],
    );
    expect(kinds(decided)).toEqual(['entered active-pro', 'timer segment:active-pro at 2026-03-08T11:00:00.000Z']);
    const entered = decided[0];
    expect(entered.metadata).toMatchObject({ customerId: 'c1', causationId: h.events[3].id, source: 'segments' });
  });

  it('given a member, when the window passes (the timer fires), then SegmentLeft (conditions) and no more timer', () => {
    const h = new History('c1');
    const { decided, view } = run(
      [segment],
      [
        h.identify('2026-03-01T10:00:00.000Z', { plan: 'pro' }),
        h.track('2026-03-01T11:00:00.000Z', 'Feature Used'),
        h.track('2026-03-02T11:00:00.000Z', 'Feature Used'),
        h.track('2026-03-03T11:00:00.000Z', 'Feature Used'),
      ],
    );
    const timer = typed(decided[1]);
    if (timer.type !== 'TimerScheduled') throw new Error('expected a timer');
    const fired = timerFired(timer, Date.parse(timer.data.dueAt));
    const after = decideSegments([segment], view, fired, t(timer.data.dueAt));
    expect(kinds(after)).toEqual(['left active-pro (conditions)']);
    expect(view.members.size).toBe(0);
    expect(view.timers.size).toBe(0);
  });

  it('given a member, when more events move the drop-out later, then no new timer until the pending one fires; it re-arms then', () => {
    const h = new History('c1');
    const inputs = [
      h.identify('2026-03-01T10:00:00.000Z', { plan: 'pro' }),
      h.track('2026-03-01T11:00:00.000Z', 'Feature Used'),
      h.track('2026-03-02T11:00:00.000Z', 'Feature Used'),
      h.track('2026-03-03T11:00:00.000Z', 'Feature Used'),
      h.track('2026-03-04T11:00:00.000Z', 'Feature Used'),
      h.track('2026-03-05T11:00:00.000Z', 'Feature Used'),
    ];
    const { decided, view } = run([segment], inputs);
    expect(kinds(decided)).toEqual(['entered active-pro', 'timer segment:active-pro at 2026-03-08T11:00:00.000Z']);
    const timer = typed(decided[1]) as ReturnType<typeof typed> & { type: 'TimerScheduled' };
    const fired = timerFired(timer as never, Date.parse('2026-03-08T11:00:00.000Z'));
    // still 3 in the window (3rd, 4th, 5th): stays; the count falls below 3 when the 3rd leaves the window
    expect(kinds(decideSegments([segment], view, fired, t('2026-03-08T11:00:00.000Z')))).toEqual([
      'timer segment:active-pro at 2026-03-10T11:00:00.000Z',
    ]);
  });

  it('given a member, when the plan trait changes, then SegmentLeft at once', () => {
    const h = new History('c1');
    const { view } = run(
      [segment],
      [
        h.identify('2026-03-01T10:00:00.000Z', { plan: 'pro' }),
        ...['01', '02', '03'].map((d) => h.track(`2026-03-${d}T11:00:00.000Z`, 'Feature Used')),
      ],
    );
    const left = decideSegments([segment], view, h.traits('2026-03-04T00:00:00.000Z', { plan: 'free' }), t('2026-03-04T00:00:00.000Z'));
    expect(kinds(left)).toEqual(['left active-pro (conditions)']);
  });

  it('given inactivity as a state, then a timer at the last activity + for, entered when it fires, left on the next activity', () => {
    const quiet = compileSegment({ id: 'quiet', name: 'Quiet', conditions: { inactive: { for: '14d' } } }, 1);
    const h = new History('c1');
    const { decided, view } = run([quiet], [h.track('2026-03-01T00:00:00.000Z', 'Login')]);
    expect(kinds(decided)).toEqual(['timer segment:quiet at 2026-03-15T00:00:00.000Z']);
    const fired = timerFired(typed(decided[0]) as never, Date.parse('2026-03-15T00:00:00.000Z'));
    expect(kinds(decideSegments([quiet], view, fired, t('2026-03-15T00:00:00.000Z')))).toEqual(['entered quiet']);
    expect(kinds(decideSegments([quiet], view, h.track('2026-03-20T00:00:00.000Z', 'Login'), t('2026-03-20T00:00:00.000Z')))).toEqual([
      'left quiet (conditions)',
      'timer segment:quiet at 2026-04-03T00:00:00.000Z',
    ]);
  });

  it('given absence after a reference event, then in once `for` passed without the event; the event makes the customer leave', () => {
    const stuck = compileSegment(
      { id: 'stuck', name: 'Stuck', conditions: { absent: { event: 'Activated', for: '3d', after: { event: 'Signed Up' } } } },
      1,
    );
    const h = new History('c1');
    const { decided, view } = run([stuck], [h.track('2026-03-01T00:00:00.000Z', 'Signed Up')]);
    expect(kinds(decided)).toEqual(['timer segment:stuck at 2026-03-04T00:00:00.000Z']);
    const fired = timerFired(typed(decided[0]) as never, Date.parse('2026-03-04T00:00:00.000Z'));
    expect(kinds(decideSegments([stuck], view, fired, t('2026-03-04T00:00:00.000Z')))).toEqual(['entered stuck']);
    expect(kinds(decideSegments([stuck], view, h.track('2026-03-05T00:00:00.000Z', 'Activated'), t('2026-03-05T00:00:00.000Z')))).toEqual([
      'left stuck (conditions)',
    ]);
  });

  it('given a usage drop, then the timer is at the first time the ratio flips', () => {
    const drop = compileSegment(
      { id: 'drop', name: 'Drop', conditions: { usageDrop: { event: 'Used', window: '7d', baseline: '7d', below: 0.5 } } },
      1,
    );
    const h = new History('c1');
    // 4 uses on day 0: in the window for 7 days (no drop: no baseline yet), then in the baseline with nothing recent: a drop
    const inputs = [0, 1, 2, 3].map((i) => h.track(new Date(Date.parse('2026-03-01T00:00:00Z') + i * 1000).toISOString(), 'Used'));
    const { decided } = run([drop], inputs);
    expect(kinds(decided)).toEqual(['timer segment:drop at 2026-03-08T00:00:00.000Z']);
  });

  it('given account traits, then membership follows the accounts linked (AccountLinked)', () => {
    const enterprise = compileSegment({ id: 'ent', name: 'Enterprise', conditions: { account: { plan: 'enterprise' } } }, 1);
    const h = new History('c1');
    const { decided } = run(
      [enterprise],
      [
        h.add('AccountLinked', { groupId: 'g1', traits: { plan: 'starter' } }, '2026-03-01T00:00:00.000Z'),
        h.add('AccountLinked', { groupId: 'g2', traits: { plan: 'enterprise' } }, '2026-03-02T00:00:00.000Z'),
        h.add('AccountLinked', { groupId: 'g2', traits: { plan: 'starter' } }, '2026-03-03T00:00:00.000Z'),
      ],
    );
    expect(kinds(decided)).toEqual(['entered ent', 'left ent (conditions)']);
  });

  it('given a relative date trait, then the timer is at the date the filter flips', () => {
    const renewing = compileSegment({ id: 'renewing', name: 'Renewing', conditions: { traits: { renewal_date: { before: '+30d' } } } }, 1);
    const h = new History('c1');
    const { decided } = run([renewing], [h.identify('2026-03-01T00:00:00.000Z', { renewal_date: '2026-06-01T00:00:00.000Z' })]);
    expect(kinds(decided)).toEqual(['timer segment:renewing at 2026-05-02T00:00:00.001Z']);
  });

  it('given a member of a removed segment, when anything is decided, then SegmentLeft (segment-removed)', () => {
    const h = new History('c1');
    const { view } = run(
      [segment],
      [
        h.identify('2026-03-01T10:00:00.000Z', { plan: 'pro' }),
        ...['01', '02', '03'].map((d) => h.track(`2026-03-${d}T12:00:00.000Z`, 'Feature Used')),
      ],
    );
    const removed = compileSegment(ACTIVE_PRO, 1, true);
    const request = envelope({
      id: 'eval-1',
      type: 'SegmentEvaluationRequested',
      data: { segmentId: 'active-pro', version: 1 },
      workspaceId: 'ws',
      customerId: 'c1',
      occurredAt: '2026-03-04T00:00:00.000Z',
      recordedAt: '2026-03-04T00:00:00.000Z',
      source: 'segments-backfill',
    });
    expect(kinds(decideSegments([removed], view, request, t('2026-03-04T00:00:00.000Z')))).toEqual([
      'left active-pro (segment-removed)',
      'timer cancelled',
    ]);
  });

  it('decides the same events with the same ids on a replay of the same inputs', () => {
    const inputs = (() => {
      const h = new History('c1');
      return [
        h.identify('2026-03-01T10:00:00.000Z', { plan: 'pro' }),
        ...['01', '02', '03'].map((d) => h.track(`2026-03-${d}T12:00:00.000Z`, 'Feature Used')),
      ];
    })();
    expect(run([segment], inputs).decided).toEqual(run([segment], inputs).decided);
  });

  it('never decides on its own events nor on bookkeeping', () => {
    const h = new History('c1');
    const { decided, view } = run([segment], [h.identify('2026-03-01T10:00:00.000Z', { plan: 'pro' })]);
    expect(decided).toEqual([]);
    const entered = envelope({
      id: 'x',
      type: 'SegmentEntered',
      data: { segmentId: 'other', version: 1 },
      workspaceId: 'ws',
      customerId: 'c1',
      occurredAt: '2026-03-01T11:00:00.000Z',
      recordedAt: '2026-03-01T11:00:00.000Z',
      source: 'segments',
    });
    expect(decideSegments([segment], view, entered, t('2026-03-01T11:00:00.000Z'))).toEqual([]);
    applyToSegmentView(view, entered);
    expect([...view.members.keys()]).toEqual(['other']);
  });
});

describe('the one-time backfill (backfillPage)', () => {
  const [defined] = decideSegment({ type: 'DefineSegment', definition: ACTIVE_PRO }, initialSegmentState('active-pro'), {
    workspaceId: 'ws',
    now: t('2026-03-01T00:00:00Z'),
  });

  it('asks each customer of the page on its stream and records the progress; a full page continues, a short one is done', () => {
    const first = backfillPage(defined as never, ['a', 'b'], 2, t('2026-03-01T00:00:01Z'));
    expect(first.requests.map((r) => [r.type, r.metadata.customerId, r.metadata.source])).toEqual([
      ['SegmentEvaluationRequested', 'a', 'segments-backfill'],
      ['SegmentEvaluationRequested', 'b', 'segments-backfill'],
    ]);
    expect(first.progress.data).toEqual({
      segmentId: 'active-pro',
      version: 1,
      of: 'SegmentDefined',
      after: 'b',
      customers: 2,
      done: false,
    });
    const second = backfillPage(first.progress as never, ['c'], 2, t('2026-03-01T00:00:02Z'));
    expect(second.progress.data).toMatchObject({ after: 'c', customers: 3, done: true });
    // a page asked again (a replay) has the same ids: the store appends nothing new
    expect(backfillPage(defined as never, ['a', 'b'], 2, t('2026-03-01T00:00:09Z')).requests.map((r) => r.id)).toEqual(
      first.requests.map((r) => r.id),
    );
    expect(second.requests[0].id).not.toEqual(first.requests[0].id);
  });
});

describe('the trigger language: segment, inSegment, account', () => {
  const base = { now: 0, traits: {}, previousTraits: {}, stage: null, history: [], timeZone: 'UTC' };
  const record = (type: string, segmentId: string) => ({
    id: 'e',
    name: type,
    type,
    at: 0,
    props: { segmentId, version: 1 },
    activity: false,
  });

  it('validates them, with paths', () => {
    const trigger = (entry: unknown) => validateTrigger({ id: 't', name: 'T', entry, steps: [{ exit: { reason: 'x' } }] });
    expect(trigger({ segment: { entered: 'active-pro' } }).ok).toBe(true);
    expect(trigger({ all: [{ inSegment: ['a', 'b'] }, { account: { plan: 'pro' } }] }).ok).toBe(true);
    expect(trigger({ segment: {} })).toMatchObject({
      ok: false,
      errors: [{ path: 'entry.segment', message: expect.stringMatching(/exactly one/) }],
    });
    expect(trigger({ inSegment: 'no spaces' })).toMatchObject({ ok: false, errors: [{ path: 'entry.inSegment' }] });
    expect(trigger({ account: { plan: { bogus: 1 } } })).toMatchObject({ ok: false, errors: [{ path: 'entry.account.plan.bogus' }] });
  });

  it('segment matches the SegmentEntered / SegmentLeft decided on; inSegment reads the membership; account any linked account', () => {
    const entered = compileSignal({ segment: { entered: 'a' } });
    expect(entered({ ...base, event: record('SegmentEntered', 'a') })).toBe(true);
    expect(entered({ ...base, event: record('SegmentEntered', 'b') })).toBe(false);
    expect(entered({ ...base, event: record('SegmentLeft', 'a') })).toBe(false);
    expect(compileSignal({ segment: { left: 'a' } })({ ...base, event: record('SegmentLeft', 'a') })).toBe(true);
    const inSegment = compileSignal({ inSegment: ['a', 'b'] });
    expect(inSegment({ ...base, segments: new Set(['b']) })).toBe(true);
    expect(inSegment({ ...base, segments: new Set(['c']) })).toBe(false);
    expect(inSegment(base)).toBe(false);
    const account = compileSignal({ account: { plan: 'enterprise' } });
    expect(account({ ...base, accountTraits: { g1: { plan: 'pro' }, g2: { plan: 'enterprise' } } })).toBe(true);
    expect(account({ ...base, accountTraits: { g1: { plan: 'pro' } } })).toBe(false);
  });
});

describe('triggers decide on membership (CustomerView: segments, accounts)', () => {
  const send = [{ send: { channel: 'inbox', body: 'hi' } }];
  it('a trigger starts on SegmentEntered; inSegment and account read what the view folded', () => {
    const onEntry = enabledProgram({ id: 'on-entry', name: 'On entry', entry: { segment: { entered: 'active-pro' } }, steps: send });
    const inside = enabledProgram({
      id: 'inside',
      name: 'Inside',
      reentry: 'every',
      entry: { all: [{ event: 'Clicked' }, { inSegment: 'active-pro' }, { account: { plan: 'enterprise' } }] },
      steps: send,
    });
    const view = emptyCustomerView();
    const h = new History('c1');
    const at = '2026-03-01T10:00:00.000Z';
    const decide = (e: JourneyEvent) => decideOnView([onEntry, inside], view, e, t(at)).filter((x) => x.type === 'TriggerMatched');
    expect(decide(h.add('AccountLinked', { groupId: 'g1', traits: { plan: 'enterprise' } }, at))).toEqual([]);
    expect(decide(h.track(at, 'Clicked'))).toEqual([]);
    const entered = decide(h.add('SegmentEntered', { segmentId: 'active-pro', version: 1 }, at));
    expect(entered.map((e) => e.data.triggerId)).toEqual(['on-entry']);
    expect(view.segments).toEqual(new Set(['active-pro']));
    expect(decide(h.track(at, 'Clicked')).map((e) => e.data.triggerId)).toEqual(['inside']);
    decide(h.add('SegmentLeft', { segmentId: 'active-pro', version: 1, reason: 'conditions' }, at));
    expect(decide(h.track(at, 'Clicked'))).toEqual([]);
  });
});

it('refuses conditions nested deeper than MAX_DEPTH, naming where', () => {
  let conditions: unknown = { traits: { plan: 'pro' } };
  for (let i = 0; i < 10_000; i++) conditions = { not: conditions };
  const r = validateSegment({ id: 'deep', name: 'Deep', conditions });
  expect(r).toMatchObject({
    ok: false,
    errors: [{ path: `conditions${'.not'.repeat(32)}`, message: expect.stringMatching(/at most 32 levels/) }],
  });
});

it('given a member, when the customer is forgotten, then what the conditions read is gone and the customer leaves', () => {
  const segment = compileSegment({ id: 'pro', name: 'Pro', conditions: { traits: { plan: 'pro' } } }, 1);
  const h = new History('c1');
  const view = emptySegmentView();
  const at = '2026-03-01T00:00:00.000Z';
  expect(decideSegments([segment], view, h.identify(at, { plan: 'pro' }), new Date(at)).map((e) => e.type)).toEqual(['SegmentEntered']);
  expect(decideSegments([segment], view, h.add('CustomerForgotten', {}, at), new Date(at)).map((e) => e.type)).toEqual(['SegmentLeft']);
});

it('decides nothing on an input no condition reads (time changes are the timers’ part)', () => {
  const active = compileSegment(ACTIVE_PRO, 1);
  const h = new History('c1');
  const view = emptySegmentView();
  const at = '2026-03-01T00:00:00.000Z';
  decideSegments([active], view, h.identify(at, { plan: 'pro' }), new Date(at));
  const unrelated = h.add('MessageDelivered', { messageId: 'm1', channel: 'inbox', attempt: 1 }, at);
  expect(decideSegments([active], view, unrelated, new Date(at))).toEqual([]);
  expect(view.history.some((r) => r.type === 'MessageDelivered')).toBe(true); // folded all the same
});
