import type { JourneyEvent } from '../events';
import { evolveCustomer, initialCustomerState } from '../customer';
import { applyToView, emptyCustomerView, simulateCustomer } from './customer';
import type { EvalContext } from './conditions';
import { customerAsOf, planPreview, resolveStep, stepAddressOfPath, TEST_MESSAGE_PREFIX } from './preview';
import type { TriggerProgram } from './program';
import { enabledProgram, History, ofType } from './testing';
import { explainSignal, splitBucket, whyNot, type WhyNotInput } from './why-not';

const ALWAYS = () => true;
const at = (iso: string) => Date.parse(iso);

/** Runs the programs over the history (as the reactor would), then asks why-not of `program` at `asOf`. */
function ask(program: TriggerProgram, history: History, asOf: string, options: Partial<WhyNotInput> & { others?: TriggerProgram[] } = {}) {
  const { others = [], ...rest } = options;
  const { stream } = simulateCustomer([program, ...others], history.events, new Date(asOf));
  return whyNot({
    workspaceId: 'ws',
    customerId: history.customerId,
    trigger: program.latest,
    enabledAt: ALWAYS,
    events: stream,
    asOf: at(asOf),
    priorities: new Map([program, ...others].map((p) => [p.id, p.latest.priority])),
    ...rest,
  });
}

const send = { send: { channel: 'email', subject: 'Hi {{ customer.traits.name }}', body: 'Hello' } };

describe('why-not', () => {
  const powerUser = enabledProgram({
    id: 'power',
    name: 'Power user',
    entry: { all: [{ event: 'Report Exported' }, { count: { event: 'Feature Used', within: '7d', gte: 3 } }] },
    steps: [send],
  });

  it('given 2 Feature Used in 7 days, when the entry needs 3, then the count names 2 with those events', () => {
    const h = new History();
    const f1 = h.track('2025-03-01T10:00:00Z', 'Feature Used');
    const f2 = h.track('2025-03-02T10:00:00Z', 'Feature Used');
    const r = h.track('2025-03-03T10:00:00Z', 'Report Exported');
    const answer = ask(powerUser, h, '2025-03-04T00:00:00Z');
    expect(answer).toMatchObject({ got: false, code: 'entry-not-met', decidedOn: { id: r.id, name: 'Report Exported' } });
    expect(answer.reason).toContain('count of Feature Used within 7d was 2, needs ≥ 3');
    expect(answer.events.map((e) => e.id)).toEqual([f1.id, f2.id]);
  });

  it('given 3 Feature Used then a Report Exported, when asked, then they got it: the message id', () => {
    const h = new History();
    for (const d of ['01', '02', '03']) h.track(`2025-03-${d}T10:00:00Z`, 'Feature Used');
    h.track('2025-03-04T10:00:00Z', 'Report Exported');
    const answer = ask(powerUser, h, '2025-03-05T00:00:00Z');
    expect(answer).toMatchObject({ got: true, code: 'sent', message: { channel: 'email' } });
    expect(answer.reason).toContain(answer.message!.messageId);
  });

  it('given the message failed to deliver, then delivery-failed with the message', () => {
    const h = new History();
    for (const d of ['01', '02', '03']) h.track(`2025-03-${d}T10:00:00Z`, 'Feature Used');
    h.track('2025-03-04T10:00:00Z', 'Report Exported');
    const { stream } = simulateCustomer([powerUser], h.events);
    const messageId = ofType(stream, 'MessageScheduled')[0].data.messageId as string;
    h.events.splice(0, h.events.length, ...stream);
    h.add('MessageFailed', { messageId, channel: 'email', attempts: 3, error: '550 no such user' }, '2025-03-04T10:05:00Z');
    const answer = whyNot({
      workspaceId: 'ws',
      customerId: 'c1',
      trigger: powerUser.latest,
      enabledAt: ALWAYS,
      events: h.events,
      asOf: at('2025-03-05T00:00:00Z'),
    });
    expect(answer).toMatchObject({ got: false, code: 'delivery-failed', message: { messageId, status: 'failed' } });
  });

  it('given no event the entry starts on, then entry not met names it', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Feature Used');
    expect(ask(powerUser, h, '2025-03-04T00:00:00Z')).toMatchObject({
      code: 'entry-not-met',
      reason: 'entry not met: no a Report Exported event by 2025-03-04T00:00:00.000Z',
    });
  });

  it("given a trait filter, then the trait's actual value against the filter, with the event that set it", () => {
    const p = enabledProgram({ id: 'pro', name: 'Pro', entry: { all: [{ event: 'Login' }, { traits: { plan: 'pro' } }] }, steps: [send] });
    const h = new History();
    const id = h.identify('2025-03-01T10:00:00Z', { plan: 'free' });
    h.track('2025-03-02T10:00:00Z', 'Login');
    const answer = ask(p, h, '2025-03-03T00:00:00Z');
    expect(answer.code).toBe('entry-not-met');
    expect(answer.reason).toContain('trait plan was "free", needs = "pro"');
    expect(answer.events.map((e) => e.id)).toEqual([id.id]);
  });

  it('given any/not, then which sub-condition failed', () => {
    const p = enabledProgram({
      id: 'anynot',
      name: 'Any not',
      entry: { all: [{ event: 'Login' }, { not: { traits: { plan: 'free' } } }] },
      steps: [send],
    });
    const h = new History();
    h.identify('2025-03-01T10:00:00Z', { plan: 'free' });
    h.track('2025-03-02T10:00:00Z', 'Login');
    expect(ask(p, h, '2025-03-03T00:00:00Z').reason).toContain('not (traits match {"plan":"free"}) failed: it held');
  });

  describe('absence watch', () => {
    const p = enabledProgram({
      id: 'activation',
      name: 'Activation',
      entry: { absent: { event: 'Activated', for: '3d', after: { event: 'CustomerIdentified' } } },
      steps: [send],
    });

    it('given the watch not due yet, then not-due-yet with its due time', () => {
      const h = new History();
      const id = h.identify('2025-03-01T10:00:00Z');
      const answer = ask(p, h, '2025-03-02T10:00:00Z');
      expect(answer).toMatchObject({ code: 'not-due-yet', events: [{ id: id.id }] });
      expect(answer.reason).toContain('due at 2025-03-04T10:00:00.000Z');
    });

    it('given the absent event happened, then cancelled by which event', () => {
      const h = new History();
      h.identify('2025-03-01T10:00:00Z');
      const act = h.track('2025-03-02T10:00:00Z', 'Activated');
      const answer = ask(p, h, '2025-03-10T10:00:00Z');
      expect(answer.code).toBe('entry-not-met');
      expect(answer.reason).toContain(`cancelled by Activated at 2025-03-02T10:00:00.000Z (${act.id})`);
    });
  });

  it('given an inactivity watch, then not due yet from the last activity, then what the run met once due', () => {
    const p = enabledProgram({ id: 'quiet', name: 'Quiet', entry: { inactive: { for: '7d' } }, steps: [send] });
    const h = new History();
    h.identify('2025-03-01T10:00:00Z', { name: 'Ada' });
    const last = h.track('2025-03-02T10:00:00Z', 'Login');
    const answer = ask(p, h, '2025-03-05T00:00:00Z');
    expect(answer).toMatchObject({ code: 'not-due-yet', events: [{ id: last.id }] });
    expect(answer.reason).toContain('due at 2025-03-09T10:00:00.000Z');
    expect(ask(p, h, '2025-03-10T00:00:00Z')).toMatchObject({ got: true, code: 'sent' });
  });

  it('given a backfilled event, then event too old (maxEventAge)', () => {
    const h = new History();
    for (const d of ['01', '02', '03']) h.track(`2025-03-${d}T10:00:00Z`, 'Feature Used', {}, '2025-04-01T00:00:00Z');
    h.track('2025-03-04T10:00:00Z', 'Report Exported', {}, '2025-04-01T00:00:00Z');
    const answer = ask(powerUser, h, '2025-04-02T00:00:00Z');
    expect(answer.code).toBe('event-too-old');
    expect(answer.reason).toContain('more than maxEventAge 7d');
  });

  it('given a trigger that runs once and ran before, then re-entry names when (asked of a new version with no run)', () => {
    const h = new History();
    for (const d of ['01', '02', '03']) h.track(`2025-03-${d}T10:00:00Z`, 'Feature Used');
    h.track('2025-03-04T10:00:00Z', 'Report Exported');
    h.track('2025-03-05T10:00:00Z', 'Report Exported');
    const { stream } = simulateCustomer([powerUser], h.events);
    // the customer's run is version 1; the same stream asked of version 1 with its run hidden shows the re-entry rule
    const answer = whyNot({
      workspaceId: 'ws',
      customerId: 'c1',
      trigger: { ...powerUser.latest, version: 2 },
      enabledAt: ALWAYS,
      events: stream,
      asOf: at('2025-03-06T00:00:00Z'),
    });
    expect(answer.code).toBe('reentry');
    expect(answer.reason).toContain('already ran at 2025-03-04T10:00:00.000Z');
  });

  it('given a trigger that may run again, when a later event met no entry, then why not this time (the earlier message in checks)', () => {
    const again = enabledProgram({
      id: 'again',
      name: 'Again',
      reentry: 'every',
      entry: { all: [{ event: 'Report Exported' }, { traits: { plan: 'pro' } }] },
      steps: [send],
    });
    const h = new History();
    h.identify('2025-03-01T10:00:00Z', { plan: 'pro' });
    h.track('2025-03-02T10:00:00Z', 'Report Exported');
    h.traits('2025-03-03T10:00:00Z', { plan: 'free' });
    h.track('2025-03-04T10:00:00Z', 'Report Exported');
    const answer = ask(again, h, '2025-03-05T00:00:00Z');
    expect(answer.code).toBe('entry-not-met');
    expect(answer.reason).toContain('trait plan was "free"');
    expect(answer.checks.find((c) => c.check === 'earlier run')).toMatchObject({ passed: true });
    // asked before the second event, they got it
    expect(ask(again, h, '2025-03-03T00:00:00Z').code).toBe('sent');
  });

  it('given the trigger disabled, then trigger-disabled', () => {
    const h = new History();
    h.track('2025-03-04T10:00:00Z', 'Report Exported');
    expect(ask(powerUser, h, '2025-03-05T00:00:00Z', { enabledAt: () => false }).code).toBe('trigger-disabled');
  });

  it('given an unsubscribed customer, then consent names when they unsubscribed', () => {
    const p = enabledProgram({ id: 'login', name: 'Login', entry: { event: 'Login' }, steps: [send] });
    const h = new History();
    const unsub = h.traits('2025-03-01T10:00:00Z', { unsubscribed: true });
    h.track('2025-03-02T10:00:00Z', 'Login');
    const answer = ask(p, h, '2025-03-03T00:00:00Z');
    expect(answer).toMatchObject({ got: false, code: 'consent' });
    expect(answer.reason).toContain('customer unsubscribed from all messages');
    expect(answer.reason).toContain(unsub.id);
  });

  it('given a frequency cap reached by another trigger, then the cap with the messages it counted', () => {
    const other = enabledProgram({ id: 'welcome', name: 'Welcome', entry: { event: 'Signed Up' }, steps: [send] });
    const p = enabledProgram({
      id: 'login',
      name: 'Login',
      entry: { event: 'Login' },
      steps: [send],
      guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }] },
    });
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Signed Up');
    h.track('2025-03-01T12:00:00Z', 'Login');
    const answer = ask(p, h, '2025-03-02T00:00:00Z', { others: [other] });
    expect(answer.code).toBe('frequency-cap');
    expect(answer.messages).toHaveLength(1);
    expect(answer.messages![0]).toMatchObject({ triggerId: 'welcome', channel: 'email' });
    expect(answer.reason).toContain('at most 1 per 1d (customer)');
    expect(answer.reason).toContain(answer.messages![0].messageId);
  });

  it('given a split with a 100% holdout, then holdout with their bucket', () => {
    const p = enabledProgram({
      id: 'ab',
      name: 'AB',
      entry: { event: 'Login' },
      steps: [{ split: { holdout: 100, variants: [{ name: 'a', weight: 1, steps: [send] }] } }],
    });
    const h = new History();
    h.track('2025-03-02T10:00:00Z', 'Login');
    const answer = ask(p, h, '2025-03-03T00:00:00Z');
    expect(answer).toMatchObject({ code: 'holdout', bucket: { value: splitBucket('ab', 'c1'), holdout: 100, step: '0' } });
  });

  it('given quiet hours, then deferred to their end', () => {
    const p = enabledProgram({
      id: 'quiet',
      name: 'Quiet',
      entry: { event: 'Login' },
      steps: [send],
      guards: { quietHours: { start: '20:00', end: '08:00' } },
    });
    const h = new History();
    h.track('2025-03-02T22:00:00Z', 'Login');
    const answer = ask(p, h, '2025-03-02T23:00:00Z');
    expect(answer).toMatchObject({ got: false, code: 'quiet-hours', deferredTo: '2025-03-03T08:00:00.000Z' });
    // after the end of quiet hours, they got it
    expect(ask(p, h, '2025-03-03T09:00:00Z').code).toBe('sent');
  });

  it('given a higher-priority trigger on the same event, then priority names it', () => {
    const high = enabledProgram({ id: 'high', name: 'High', priority: 10, entry: { event: 'Login' }, steps: [send] });
    const low = enabledProgram({ id: 'low', name: 'Low', entry: { event: 'Login' }, steps: [send] });
    const h = new History();
    h.track('2025-03-02T10:00:00Z', 'Login');
    const answer = ask(low, h, '2025-03-03T00:00:00Z', { others: [high] });
    expect(answer.code).toBe('priority');
    expect(answer.reason).toContain('trigger high (priority 10)');
  });

  it('given a version with no run in the log, then the evaluation says what would happen (priority from the log too)', () => {
    const high = enabledProgram({ id: 'high', name: 'High', priority: 10, entry: { event: 'Login' }, steps: [send] });
    const low = enabledProgram({ id: 'low', name: 'Low', entry: { event: 'Login' }, steps: [send] });
    const h = new History();
    h.track('2025-03-02T10:00:00Z', 'Login');
    const { stream } = simulateCustomer([high], h.events);
    const input = { workspaceId: 'ws', customerId: 'c1', enabledAt: ALWAYS, events: stream, asOf: at('2025-03-03T00:00:00Z') };
    expect(whyNot({ ...input, trigger: low.latest, priorities: new Map([['high', 10]]) }).code).toBe('priority');
    expect(whyNot({ ...input, trigger: low.latest, priorities: new Map([['high', -1]]) }).code).toBe('would-send');
  });

  it('given segments and accounts, then the explaining evaluator names membership and account traits', () => {
    const ctx: EvalContext = {
      now: 0,
      traits: {},
      previousTraits: {},
      stage: null,
      history: [],
      timeZone: 'UTC',
      segments: new Set(['trial']),
      accountTraits: { acme: { plan: 'pro' } },
    };
    expect(explainSignal({ inSegment: 'vip' }, ctx)).toMatchObject({ ok: false, text: 'the customer is not in segment vip (in: trial)' });
    expect(explainSignal({ inSegment: ['vip', 'trial'] }, ctx).ok).toBe(true);
    expect(explainSignal({ account: { plan: 'enterprise' } }, ctx)).toMatchObject({
      ok: false,
      text: 'no linked account matches (acme: trait plan was "pro", needs = "enterprise")',
    });
  });
});

describe('preview helpers', () => {
  const p = enabledProgram({
    id: 'nested',
    name: 'Nested',
    entry: { event: 'Login', where: { plan: 'pro' } },
    steps: [
      { wait: { duration: '1d' } },
      { branch: { if: { traits: { vip: true } }, then: [send], else: [{ task: { title: 'Call them' } }] } },
      { split: { variants: [{ name: 'a', weight: 1, steps: [{ send: { channel: 'inbox', body: 'B {{ event.plan }}' } }] }] } },
    ],
    guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'customer' }], quietHours: { start: '20:00', end: '08:00' } },
  });

  it('resolves document paths, run addresses and indexes to the same step; unknown ones to undefined', () => {
    expect(stepAddressOfPath('steps[1].branch.then[0]')).toBe('1.then.0');
    expect(stepAddressOfPath('steps[2].split.variants[0].steps[0]')).toBe('2.variants.0.0');
    expect(resolveStep(p.latest, 'steps[1].branch.else[0]')).toMatchObject({
      address: '1.else.0',
      path: 'steps[1].branch.else[0]',
      step: { kind: 'task' },
    });
    expect(resolveStep(p.latest, '2.variants.0.0')?.path).toBe('steps[2].split.variants[0].steps[0]');
    expect(resolveStep(p.latest, 0)?.step.kind).toBe('wait');
    expect(resolveStep(p.latest, 'steps[9]')).toBeUndefined();
    expect(resolveStep(p.latest, 'nonsense')).toBeUndefined();
  });

  it('plans a send as of a moment: traits then, the causing event, the guard verdicts then', () => {
    const h = new History();
    h.identify('2025-03-01T10:00:00Z', { name: 'Ada' });
    h.track('2025-03-01T11:00:00Z', 'Login', { plan: 'pro' });
    h.identify('2025-03-05T10:00:00Z', { name: 'Later' });
    const customer = customerAsOf(h.events, at('2025-03-02T12:00:00Z'));
    const plan = planPreview(
      p.latest,
      resolveStep(p.latest, 'steps[2].split.variants[0].steps[0]')!,
      'c1',
      customer,
      at('2025-03-02T12:00:00Z'),
    );
    expect(plan).toMatchObject({ channel: 'inbox', scope: { customer: { id: 'c1', traits: { name: 'Ada' } }, event: { plan: 'pro' } } });
    expect(plan.guards!.guards.map((g) => `${g.guard}:${g.verdict}`)).toEqual([
      'consent:passed',
      'frequency-cap 1 per 1d (customer):passed',
      'priority:passed',
      'quiet-hours:passed',
    ]);
    const night = planPreview(p.latest, resolveStep(p.latest, '1.then.0')!, 'c1', customer, at('2025-03-02T22:00:00Z'));
    expect(night.guards!.notBefore).toBe(at('2025-03-03T08:00:00Z'));
  });

  it('never counts a test send against frequency caps nor in the customer counters', () => {
    const h = new History();
    const scheduled = h.add(
      'MessageScheduled',
      { messageId: `${TEST_MESSAGE_PREFIX}1`, channel: 'email', template: { body: 'x' }, to: 'qa@example.com', test: true, literal: true },
      '2025-03-01T10:00:00Z',
    );
    const sent = h.add('MessageSent', { messageId: `${TEST_MESSAGE_PREFIX}1`, channel: 'email', attempt: 1 }, '2025-03-01T10:00:01Z');
    const view = emptyCustomerView();
    for (const e of h.events) applyToView(view, e);
    expect(view.messages).toEqual([]);
    const state = [scheduled, sent].reduce((s, e: JourneyEvent) => evolveCustomer(s, e), initialCustomerState('ws', 'c1'));
    expect(state.messages.scheduled + state.messages.sent).toBe(0);
    expect(ofType(h.events, 'MessageScheduled')).toHaveLength(1);
  });
});
