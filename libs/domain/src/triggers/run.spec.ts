import type { JourneyEvent } from '../events';
import { MAX_CAUSAL_DEPTH, simulateCustomer } from './customer';
import { decideTrigger, evolveTrigger, initialTriggerState } from './definition';
import { triggerProgram } from './program';
import { enabledProgram, History, ofType } from './testing';

const send = (subject: string, extra: Record<string, unknown> = {}) => ({
  send: { channel: 'email', subject, body: `{{ traits.name }}: ${subject}`, ...extra },
});
const subjects = (events: JourneyEvent[]) =>
  ofType(events, 'MessageScheduled').map((e) => (e.data.template as { subject: string }).subject);
const suppressed = (events: JourneyEvent[]) => ofType(events, 'MessageSuppressed').map((e) => e.data.reason);

describe('trigger runs (decideRun through simulateCustomer)', () => {
  it('given an event trigger with filters, when a matching event arrives, then matched, message scheduled, run completed — with deterministic ids', () => {
    const p = enabledProgram({
      id: 'upgrade',
      name: 'Upgrade thanks',
      entry: { event: 'Plan Upgraded', where: { plan: { in: ['pro', 'team'] }, seats: { gte: 5 } } },
      steps: [send('Thanks')],
    });
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Plan Upgraded', { plan: 'pro', seats: 3 });
    h.track('2025-03-02T10:00:00Z', 'Plan Upgraded', { plan: 'free', seats: 10 });
    const cause = h.track('2025-03-03T10:00:00Z', 'Plan Upgraded', { plan: 'team', seats: 10 });
    const first = simulateCustomer([p], h.events).decided;
    expect(first.map((e) => e.type)).toEqual(['TriggerMatched', 'TriggerRunStepEntered', 'MessageScheduled', 'TriggerRunExited']);
    expect(first[0].data).toMatchObject({ triggerId: 'upgrade', version: 1, causingEventId: cause.id });
    expect(first[2].data).toMatchObject({ channel: 'email', triggerId: 'upgrade', triggerVersion: 1, causingEventId: cause.id });
    expect(first.every((e) => e.metadata.causationId === cause.id && e.metadata.customerId === 'c1')).toBe(true);
    expect(simulateCustomer([p], h.events).decided.map((e) => e.id)).toEqual(first.map((e) => e.id));
  });

  describe('absence: identified but no Activated within 3 days', () => {
    const p = enabledProgram({
      id: 'activation',
      name: 'Activation nudge',
      entry: { absent: { event: 'Activated', for: '3d', after: { event: 'CustomerIdentified' } } },
      steps: [send('Need a hand?')],
    });

    it('when 3 days pass without it, then the timer fires and the nudge is scheduled', () => {
      const h = new History();
      h.identify('2025-03-01T10:00:00Z', { name: 'Ada' });
      h.identify('2025-03-02T10:00:00Z', { name: 'Ada L.' });
      const { decided } = simulateCustomer([p], h.events, new Date('2025-03-10T00:00:00Z'));
      expect(ofType(decided, 'TimerScheduled').map((e) => e.data.dueAt)).toEqual(['2025-03-04T10:00:00.000Z']);
      expect(subjects(decided)).toEqual(['Need a hand?']);
      expect(ofType(decided, 'MessageScheduled')[0].metadata.occurredAt).toBe('2025-03-04T10:00:00.000Z');
    });

    it('when Activated happens on day 2, then the watch is cancelled and nothing is sent', () => {
      const h = new History();
      h.identify('2025-03-01T10:00:00Z');
      h.track('2025-03-03T09:00:00Z', 'Activated');
      const { decided } = simulateCustomer([p], h.events, new Date('2025-03-10T00:00:00Z'));
      expect(ofType(decided, 'TimerCancelled')).toHaveLength(1);
      expect(subjects(decided)).toEqual([]);
    });

    it('when Activated arrives out of order (happened before the identify, arrived after), then nothing is sent', () => {
      const h = new History();
      h.identify('2025-03-01T10:00:00Z');
      h.track('2025-03-01T09:00:00Z', 'Activated', {}, '2025-03-01T11:00:00Z');
      expect(subjects(simulateCustomer([p], h.events, new Date('2025-03-10T00:00:00Z')).decided)).toEqual([]);
    });

    it('when the identify itself arrives late (its 3 days already over) after a late Activated, then nothing; without it, the nudge goes at once', () => {
      const withActivation = new History();
      withActivation.track('2025-03-02T10:00:00Z', 'Activated', {}, '2025-03-06T10:00:00Z');
      withActivation.identify('2025-03-01T10:00:00Z', {}, '2025-03-06T11:00:00Z');
      expect(subjects(simulateCustomer([p], withActivation.events, new Date('2025-03-10T00:00:00Z')).decided)).toEqual([]);

      const late = new History();
      late.identify('2025-03-01T10:00:00Z', {}, '2025-03-06T11:00:00Z');
      const { decided } = simulateCustomer([p], late.events, new Date('2025-03-10T00:00:00Z'));
      expect(subjects(decided)).toEqual(['Need a hand?']);
      expect(ofType(decided, 'MessageScheduled')[0].metadata.occurredAt).toBe('2025-03-06T11:00:00.000Z');

      const backfill = new History();
      backfill.identify('2025-01-01T10:00:00Z', {}, '2025-03-06T11:00:00Z');
      expect(simulateCustomer([p], backfill.events, new Date('2025-03-10T00:00:00Z')).decided).toEqual([]);
    });
  });

  it('wait until an event with a timeout: one branch per outcome, and the goal exit cancels the pending timer', () => {
    const p = enabledProgram({
      id: 'trial',
      name: 'Trial',
      reentry: 'every',
      entry: { event: 'Trial Started' },
      exit: [{ when: { event: 'Subscribed' }, reason: 'converted' }],
      steps: [
        {
          wait: {
            until: { event: 'Project Created' },
            timeout: '2d',
            onEvent: [send('Great start')],
            onTimeout: [send('Create a project')],
          },
        },
        { wait: { duration: '5d' } },
        send('Trial ends soon'),
      ],
    });
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Trial Started');
    h.track('2025-03-02T10:00:00Z', 'Project Created');
    h.track('2025-03-04T10:00:00Z', 'Subscribed');
    h.track('2025-04-01T10:00:00Z', 'Trial Started');
    const { decided } = simulateCustomer([p], h.events, new Date('2025-05-01T00:00:00Z'));
    expect(subjects(decided)).toEqual(['Great start', 'Create a project', 'Trial ends soon']);
    expect(ofType(decided, 'TriggerRunExited').map((e) => e.data.reason)).toEqual(['converted', 'completed']);
    const cancelled = ofType(decided, 'TimerCancelled').map((e) => e.data.timerId);
    expect(cancelled).toHaveLength(2);
    expect(ofType(decided, 'TimerFired')).toEqual([]);
  });

  it('guards: consent per channel/topic, frequency cap, quiet hours deferred in the customer time zone', () => {
    const p = enabledProgram({
      id: 'tips',
      name: 'Tips',
      reentry: 'every',
      entry: { event: 'Tip Requested' },
      guards: { frequencyCaps: [{ max: 2, per: '1d', scope: 'channel' }], quietHours: { start: '21:00', end: '08:00' } },
      steps: [send('Tip', { topic: 'tips' })],
    });
    const h = new History();
    h.identify('2025-03-01T00:00:00Z', { timezone: 'America/New_York' });
    h.track('2025-03-03T15:00:00Z', 'Tip Requested');
    h.track('2025-03-03T16:00:00Z', 'Tip Requested');
    h.track('2025-03-03T17:00:00Z', 'Tip Requested');
    h.track('2025-03-05T03:00:00Z', 'Tip Requested'); // 22:00 in New York
    h.traits('2025-03-06T00:00:00Z', { unsubscribedTopics: ['tips'] });
    h.track('2025-03-07T15:00:00Z', 'Tip Requested');
    const { decided } = simulateCustomer([p], h.events);
    const scheduled = ofType(decided, 'MessageScheduled');
    expect(scheduled).toHaveLength(3);
    expect(scheduled.map((e) => e.data.notBefore)).toEqual([undefined, undefined, '2025-03-05T13:00:00.000Z']);
    expect(suppressed(decided)).toEqual(['frequency-cap', 'consent']);
    // every guard checked is recorded with its verdict, in order (what explain reports)
    const verdicts = (e: JourneyEvent) =>
      (e.data.guards as Array<{ guard: string; verdict: string }>).map((g) => `${g.guard}: ${g.verdict}`);
    expect(verdicts(scheduled[1])).toEqual([
      'consent: passed',
      'frequency-cap 2 per 1d (channel email): passed',
      'priority: passed',
      'quiet-hours: passed',
    ]);
    expect(verdicts(scheduled[2])).toEqual([
      'consent: passed',
      'frequency-cap 2 per 1d (channel email): passed',
      'priority: passed',
      'quiet-hours: deferred',
    ]);
    const [capped, unsubscribed] = ofType(decided, 'MessageSuppressed');
    expect(verdicts(capped)).toEqual(['consent: passed', 'frequency-cap 2 per 1d (channel email): suppressed']);
    expect(verdicts(unsubscribed)).toEqual(['consent: suppressed']);
    expect(capped.data).toMatchObject({ triggerId: 'tips', triggerVersion: 1, step: '0' });
    expect(scheduled[0].data).toMatchObject({
      triggerId: 'tips',
      triggerVersion: 1,
      step: '0',
      runId: ofType(decided, 'TriggerMatched')[0].data.runId,
    });
  });

  it('durations in seconds (short waits)', () => {
    const p = enabledProgram({
      id: 'quick',
      name: 'Quick',
      entry: { event: 'Signed Up' },
      steps: [{ wait: { duration: '30s' } }, send('Hello')],
    });
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Signed Up');
    const { decided } = simulateCustomer([p], h.events, new Date('2025-03-01T10:01:00Z'));
    expect(ofType(decided, 'TimerScheduled').map((e) => e.data.dueAt)).toEqual(['2025-03-01T10:00:30.000Z']);
    expect(ofType(decided, 'MessageScheduled').map((e) => e.metadata.occurredAt)).toEqual(['2025-03-01T10:00:30.000Z']);
  });

  it('priority: when two triggers send on the same event, the lower priority one is suppressed', () => {
    const high = enabledProgram({
      id: 'renewal-offer',
      name: 'Offer',
      priority: 10,
      entry: { event: 'Pricing Viewed' },
      steps: [send('Offer')],
    });
    const low = enabledProgram({ id: 'pricing-tips', name: 'Tips', entry: { event: 'Pricing Viewed' }, steps: [send('Tips')] });
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Pricing Viewed');
    const { decided } = simulateCustomer([low, high], h.events);
    expect(subjects(decided)).toEqual(['Offer']);
    expect(ofType(decided, 'MessageSuppressed').map((e) => [e.data.reason, e.data.detail])).toEqual([
      ['priority', 'trigger renewal-offer (priority 10) matched the same event'],
    ]);
  });

  it('re-entry: once ever, once per period, every time', () => {
    const run = (reentry: unknown) => {
      const p = enabledProgram({ id: 'r', name: 'R', reentry, entry: { event: 'Ping' }, steps: [send('Pong')] });
      const h = new History();
      for (const day of ['01', '02', '09', '10']) h.track(`2025-03-${day}T10:00:00Z`, 'Ping');
      return ofType(simulateCustomer([p], h.events).decided, 'TriggerMatched').map((e) => e.metadata.occurredAt.slice(5, 10));
    };
    expect(run('once')).toEqual(['03-01']);
    expect(run({ oncePer: '7d' })).toEqual(['03-01', '03-09']);
    expect(run('every')).toEqual(['03-01', '03-02', '03-09', '03-10']);
  });

  it('a backfilled event older than maxEventAge never starts a run', () => {
    const p = enabledProgram({ id: 'r', name: 'R', entry: { event: 'Ping' }, steps: [send('Pong')] });
    const h = new History();
    h.track('2025-01-01T10:00:00Z', 'Ping', {}, '2025-03-01T10:00:00Z');
    expect(simulateCustomer([p], h.events).decided).toEqual([]);
  });

  it('split: stable assignment per customer; the holdout receives nothing', () => {
    const def = {
      id: 'ab',
      name: 'AB',
      entry: { event: 'Ping' },
      steps: [
        {
          split: {
            holdout: 20,
            variants: [
              { name: 'A', weight: 1, steps: [send('A')] },
              { name: 'B', weight: 1, steps: [send('B')] },
            ],
          },
        },
      ],
    };
    const p = enabledProgram(def);
    const outcome = (customer: string) => {
      const h = new History(customer);
      h.track('2025-03-01T10:00:00Z', 'Ping');
      const decided = simulateCustomer([p], h.events).decided;
      return ofType(decided, 'TriggerRunStepEntered')[0].data.variant;
    };
    const customers = Array.from({ length: 300 }, (_, i) => `cust-${i}`);
    const first = customers.map(outcome);
    expect(customers.map(outcome)).toEqual(first);
    const counts = { A: 0, B: 0, holdout: 0 } as Record<string, number>;
    for (const v of first) counts[v as string]++;
    expect(counts.holdout).toBeGreaterThan(30);
    expect(counts.holdout).toBeLessThan(90);
    expect(counts.A).toBeGreaterThan(80);
    expect(counts.B).toBeGreaterThan(80);
    const held = customers[first.indexOf('holdout')];
    const h = new History(held);
    h.track('2025-03-01T10:00:00Z', 'Ping');
    const decided = simulateCustomer([p], h.events).decided;
    expect(subjects(decided)).toEqual([]);
    expect(ofType(decided, 'TriggerRunExited')[0].data.reason).toBe('holdout');
  });

  it('CSM task: opened with owner/priority/due, closed when the resolving event arrives (after the run ended)', () => {
    const p = enabledProgram({
      id: 'at-risk',
      name: 'At risk',
      entry: { stage: { entered: 'at-risk' } },
      steps: [
        { task: { title: 'Call the customer', owner: 'csm@acme.test', priority: 'high', due: '2d', closeOn: { event: 'Call Logged' } } },
      ],
    });
    const h = new History();
    h.stage('2025-03-01T10:00:00Z', 'active', 'at-risk');
    h.track('2025-03-02T10:00:00Z', 'Feature Used');
    h.track('2025-03-03T10:00:00Z', 'Call Logged');
    const { decided } = simulateCustomer([p], h.events);
    const opened = ofType(decided, 'CsmTaskOpened');
    expect(opened.map((e) => e.data)).toEqual([
      expect.objectContaining({ title: 'Call the customer', owner: 'csm@acme.test', priority: 'high', dueAt: '2025-03-03T10:00:00.000Z' }),
    ]);
    expect(ofType(decided, 'CsmTaskClosed').map((e) => [e.data.taskId, e.data.resolution])).toEqual([
      [opened[0].data.taskId, 'resolved by Call Logged'],
    ]);
  });

  it('sliding window: fewer than 3 logins in the last 14 days, counting late events by event time', () => {
    const p = enabledProgram({
      id: 'low-usage',
      name: 'Low usage',
      reentry: 'every',
      entry: { all: [{ event: 'Report Viewed' }, { count: { event: 'Logged In', within: '14d', lt: 3 } }] },
      steps: [send('We miss you')],
    });
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Logged In');
    h.track('2025-03-10T10:00:00Z', 'Logged In');
    h.track('2025-03-12T10:00:00Z', 'Report Viewed');
    h.track('2025-03-11T10:00:00Z', 'Logged In', {}, '2025-03-12T11:00:00Z');
    h.track('2025-03-12T12:00:00Z', 'Report Viewed');
    const { decided } = simulateCustomer([p], h.events);
    expect(ofType(decided, 'TriggerMatched').map((e) => e.metadata.occurredAt)).toEqual(['2025-03-12T10:00:00.000Z']);
  });

  it("given no timezone trait, then the time zone is Segment's context.timezone of the latest identify or track; a timezone trait wins", () => {
    const p = enabledProgram({
      id: 'tip',
      name: 'Tip',
      reentry: 'every',
      entry: { event: 'Tip Requested' },
      guards: { quietHours: { start: '21:00', end: '08:00' } },
      steps: [send('Tip')],
    });
    const h = new History();
    h.add('CustomerIdentified', { userId: 'c1', traits: {}, context: { timezone: 'Asia/Tokyo' } }, '2025-03-01T00:00:00Z');
    h.track('2025-03-03T13:00:00Z', 'Tip Requested'); // 22:00 in Tokyo
    h.add(
      'InteractionRecorded',
      { event: 'Tip Requested', properties: {}, context: { timezone: 'America/New_York' } },
      '2025-03-04T03:00:00Z',
    ); // 22:00 in New York
    h.traits('2025-03-05T00:00:00Z', { timezone: 'Europe/Paris' });
    h.add(
      'InteractionRecorded',
      { event: 'Tip Requested', properties: {}, context: { timezone: 'America/New_York' } },
      '2025-03-05T21:00:00Z',
    ); // 22:00 in Paris
    const scheduled = ofType(simulateCustomer([p], h.events).decided, 'MessageScheduled');
    expect(scheduled.map((e) => e.data.notBefore)).toEqual([
      '2025-03-03T23:00:00.000Z',
      '2025-03-04T13:00:00.000Z',
      '2025-03-06T07:00:00.000Z',
    ]);
  });

  describe('a reminder waiting out quiet hours', () => {
    const nudge = enabledProgram({
      id: 'nudge',
      name: 'Nudge',
      entry: { absent: { event: 'Activated', for: '1d', after: { event: 'CustomerIdentified' } } },
      guards: { quietHours: { start: '21:00', end: '08:00' } },
      steps: [send('Need a hand?'), { wait: { duration: '2d' } }, send('Still there?')],
    });
    const history = () => {
      const h = new History();
      h.identify('2025-03-01T22:00:00Z'); // the watch is due 2025-03-02T22:00Z, inside quiet hours: the nudge waits until 08:00
      return h;
    };

    it('given a late Activated timestamped inside the absence window, when it arrives before the nudge is due, then the nudge is suppressed (late-event)', () => {
      const h = history();
      h.track('2025-03-02T12:00:00Z', 'Activated', {}, '2025-03-02T23:30:00Z');
      const { decided } = simulateCustomer([nudge], h.events, new Date('2025-03-03T12:00:00Z'));
      const [scheduled] = ofType(decided, 'MessageScheduled');
      expect(scheduled.data.notBefore).toBe('2025-03-03T08:00:00.000Z');
      const late = ofType(decided, 'MessageSuppressed');
      expect(late.map((e) => [e.data.messageId, e.data.reason, e.metadata.occurredAt])).toEqual([
        [scheduled.data.messageId, 'late-event', '2025-03-02T23:30:00.000Z'],
      ]);
      expect(late[0].data).toMatchObject({ triggerId: 'nudge', triggerVersion: 1, runId: scheduled.data.runId, step: '0' });
    });

    it('given an Activated after the window, or a late one after the nudge went out, then the nudge stands', () => {
      const after = history();
      after.track('2025-03-02T22:30:00Z', 'Activated');
      const sent = history();
      sent.track('2025-03-02T12:00:00Z', 'Activated', {}, '2025-03-03T09:00:00Z');
      for (const h of [after, sent])
        expect(suppressed(simulateCustomer([nudge], h.events, new Date('2025-03-03T12:00:00Z')).decided)).toEqual([]);
    });
  });

  it('date-relative: 30 days before renewal_date at 09:00 in the customer time zone; a changed date re-arms', () => {
    const p = enabledProgram({
      id: 'renewal-30',
      name: 'Renewal',
      entry: { date: { trait: 'renewal_date', offset: '-30d' } },
      steps: [send('Renewal in 30 days')],
    });
    const h = new History();
    h.identify('2025-01-01T00:00:00Z', { timezone: 'Europe/Paris', renewal_date: '2025-06-30' });
    h.traits('2025-02-01T00:00:00Z', { renewal_date: '2025-07-31' });
    const { decided } = simulateCustomer([p], h.events, new Date('2025-12-31T00:00:00Z'));
    expect(ofType(decided, 'TimerScheduled').map((e) => e.data.dueAt)).toEqual(['2025-05-31T07:00:00.000Z', '2025-07-01T07:00:00.000Z']);
    expect(ofType(decided, 'TimerCancelled')).toHaveLength(1);
    expect(ofType(decided, 'MessageScheduled').map((e) => e.metadata.occurredAt)).toEqual(['2025-07-01T07:00:00.000Z']);
  });

  describe('dates and durations out of range never throw', () => {
    const renewal = enabledProgram({
      id: 'renewal-30',
      name: 'Renewal',
      entry: { date: { trait: 'renewal_date', offset: '-30d' } },
      steps: [send('Renewal in 30 days')],
    });

    it.each([[1e300], [-1e300], ['next tuesday'], ['+275760-09-13T00:00:00Z'], ['10000-01-01'], ['2025-02-30'], [{ at: '2025-06-30' }]])(
      'given a date trigger, when renewal_date is %p, then it is not a date: no watch, no throw',
      (value) => {
        const h = new History();
        h.identify('2025-01-01T00:00:00Z', { renewal_date: value });
        expect(simulateCustomer([renewal], h.events, new Date('2035-01-01T00:00:00Z')).decided).toEqual([]);
      },
    );

    it('given a pending date watch, when renewal_date becomes 1e300, then the watch is cancelled (not a date any more); a valid date arms again', () => {
      const h = new History();
      h.identify('2025-01-01T00:00:00Z', { renewal_date: '2025-06-30' });
      h.traits('2025-02-01T00:00:00Z', { renewal_date: 1e300 });
      h.traits('2025-03-01T00:00:00Z', { renewal_date: '2025-07-31' });
      const { decided } = simulateCustomer([renewal], h.events, new Date('2025-12-31T00:00:00Z'));
      expect(ofType(decided, 'TimerScheduled').map((e) => e.data.dueAt)).toEqual(['2025-05-31T09:00:00.000Z', '2025-07-01T09:00:00.000Z']);
      expect(ofType(decided, 'TimerCancelled').map((e) => e.data.reason)).toEqual(['date watch no longer holds']);
      expect(subjects(decided)).toEqual(['Renewal in 30 days']);
    });

    it('given a date filter, when the trait is -1e300 or a year beyond 9999, then neither before nor after holds', () => {
      const p = enabledProgram({
        id: 'soon',
        name: 'Soon',
        reentry: 'every',
        entry: { all: [{ event: 'Ping' }, { traits: { renewal_date: { before: '+90d' } } }] },
        steps: [send('Soon')],
      });
      const later = enabledProgram({
        id: 'later',
        name: 'Later',
        reentry: 'every',
        entry: { all: [{ event: 'Ping' }, { traits: { renewal_date: { after: '2020-01-01' } } }] },
        steps: [send('Later')],
      });
      for (const value of [-1e300, 1e300, '10000-01-01', '+275760-09-13T00:00:00Z']) {
        const h = new History();
        h.identify('2025-01-01T00:00:00Z', { renewal_date: value });
        h.track('2025-01-02T00:00:00Z', 'Ping');
        expect(subjects(simulateCustomer([p, later], h.events).decided)).toEqual([]);
      }
      const h = new History();
      h.identify('2025-01-01T00:00:00Z', { renewal_date: '2025-03-01' });
      h.track('2025-01-02T00:00:00Z', 'Ping');
      expect(subjects(simulateCustomer([p, later], h.events).decided)).toEqual(['Later', 'Soon']);
    });

    it('given a definition stored before durations were bounded (a wait of 999999999999d), then it decides with the 10-year maximum instead of throwing', () => {
      let state = initialTriggerState('forever');
      const definition = {
        id: 'forever',
        name: 'Forever',
        reentry: 'every',
        entry: { event: 'Ping' },
        steps: [{ wait: { duration: '999999999999d' } }, { task: { title: 'Call', due: '999999999999d' } }],
      };
      state = evolveTrigger(state, {
        id: 'd1',
        type: 'TriggerDefined',
        data: { triggerId: 'forever', version: 1, definition },
        metadata: {
          workspaceId: 'ws',
          customerId: '',
          occurredAt: '2025-01-01T00:00:00Z',
          recordedAt: '2025-01-01T00:00:00Z',
          source: 'admin',
          schemaVersion: 1,
        },
      });
      state = evolveTrigger(state, {
        id: 'd2',
        type: 'TriggerEnabled',
        data: { triggerId: 'forever', version: 1 },
        metadata: {
          workspaceId: 'ws',
          customerId: '',
          occurredAt: '2025-01-01T00:00:00Z',
          recordedAt: '2025-01-01T00:00:00Z',
          source: 'admin',
          schemaVersion: 1,
        },
      });
      const h = new History();
      h.track('2025-03-01T10:00:00Z', 'Ping');
      const { decided } = simulateCustomer([triggerProgram(state)], h.events, new Date('2040-01-01T00:00:00Z'));
      expect(ofType(decided, 'TimerScheduled').map((e) => e.data.dueAt)).toEqual(['2035-02-27T10:00:00.000Z']);
      expect(ofType(decided, 'CsmTaskOpened').map((e) => e.data.dueAt)).toEqual(['2045-02-24T10:00:00.000Z']);
    });

    it('given an event whose time is not a time, when it would arm an absence watch, then nothing is armed (no Invalid Date)', () => {
      const p = enabledProgram({
        id: 'activation',
        name: 'Activation',
        entry: { absent: { event: 'Activated', for: '3d', after: { event: 'CustomerIdentified' } } },
        steps: [send('Hi')],
      });
      const h = new History();
      h.identify('not a time', {}, '2025-03-01T10:00:00Z');
      expect(simulateCustomer([p], h.events, new Date('2025-03-10T00:00:00Z')).decided).toEqual([]);
    });
  });

  it('trait change and stage transitions as signals; set stage/trait and emit feed back as events', () => {
    const upgrade = enabledProgram({
      id: 'plan-change',
      name: 'Plan change',
      entry: { trait: { name: 'plan', to: 'enterprise' } },
      steps: [
        { set: { stage: 'active', traits: { tier: 'gold' } } },
        { emit: { event: 'Enterprise Onboarding Started', properties: { by: 'trigger' } } },
      ],
    });
    const left = enabledProgram({
      id: 'left-onboarding',
      name: 'Left onboarding',
      entry: { stage: { left: 'onboarding' } },
      steps: [send('Welcome aboard')],
    });
    const h = new History();
    h.identify('2025-03-01T10:00:00Z', { plan: 'enterprise' });
    h.stage('2025-03-01T10:00:01Z', null, 'onboarding');
    h.identify('2025-03-02T10:00:00Z', { plan: 'enterprise' });
    const { decided } = simulateCustomer([upgrade, left], h.events);
    // The first identify sets plan (a change from nothing); the same value again is no change.
    expect(ofType(decided, 'TriggerMatched').map((e) => e.data.triggerId)).toEqual(['plan-change']);
    expect(ofType(decided, 'StageChanged').map((e) => [e.data.from, e.data.to])).toEqual([[null, 'active']]);

    const h2 = new History();
    h2.stage('2025-03-01T09:00:00Z', null, 'onboarding');
    h2.identify('2025-03-01T10:00:00Z', { plan: 'enterprise' });
    const second = simulateCustomer([upgrade, left], h2.events).decided;
    expect(ofType(second, 'StageChanged').map((e) => [e.data.from, e.data.to])).toEqual([['onboarding', 'active']]);
    expect(ofType(second, 'TraitsUpdated').map((e) => e.data.traits)).toEqual([{ tier: 'gold' }]);
    expect(ofType(second, 'InteractionRecorded').map((e) => e.data.event)).toEqual(['Enterprise Onboarding Started']);
    expect(subjects(second)).toEqual(['Welcome aboard']);
  });

  it('disabling a trigger ends its active runs and cancels their timers; no new entries', () => {
    let state = initialTriggerState('t');
    const ctx = { workspaceId: 'ws', now: new Date('2025-01-01T00:00:00Z') };
    const def = { id: 't', name: 'T', reentry: 'every', entry: { event: 'Ping' }, steps: [{ wait: { duration: '1d' } }, send('Later')] };
    for (const c of [{ type: 'DefineTrigger', definition: def } as const, { type: 'EnableTrigger' } as const])
      for (const e of decideTrigger(c, state, ctx)) state = evolveTrigger(state, e);
    const enabled = triggerProgram(state);
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Ping');
    const started = simulateCustomer([enabled], h.events).decided;
    for (const e of decideTrigger({ type: 'DisableTrigger' }, state, ctx)) state = evolveTrigger(state, e);
    const disabled = triggerProgram(state);
    h.track('2025-03-01T12:00:00Z', 'Ping');
    const after = simulateCustomer([disabled], [...h.events.slice(0, 1), ...started, h.events[1]]).decided;
    expect(after.map((e) => e.type)).toEqual(['TimerCancelled', 'TriggerRunExited']);
    expect(after[1].data.reason).toBe('trigger disabled');
  });

  describe('causal chains', () => {
    const ping = enabledProgram({
      id: 'ping',
      name: 'Ping',
      reentry: 'every',
      entry: { event: 'Ping' },
      steps: [{ emit: { event: 'Pong' } }],
    });
    const pong = enabledProgram({
      id: 'pong',
      name: 'Pong',
      reentry: 'every',
      entry: { event: 'Pong' },
      steps: [{ emit: { event: 'Ping' } }],
    });

    it(`given two triggers that start each other, when one Ping arrives, then the chain is cut at depth ${MAX_CAUSAL_DEPTH} with reason causal-depth`, () => {
      const h = new History();
      h.track('2025-03-01T10:00:00Z', 'Ping');
      const { decided } = simulateCustomer([ping, pong], h.events);
      expect(ofType(decided, 'InteractionRecorded')).toHaveLength(MAX_CAUSAL_DEPTH);
      expect(ofType(decided, 'TriggerMatched')).toHaveLength(MAX_CAUSAL_DEPTH + 1);
      expect(ofType(decided, 'TriggerRunExited').map((e) => e.data.reason)).toEqual([
        ...Array(MAX_CAUSAL_DEPTH).fill('completed'),
        'causal-depth',
      ]);
    });

    it('given a sequence of waits, then its timers do not deepen the chain: every step runs', () => {
      const steps = Array.from({ length: MAX_CAUSAL_DEPTH + 2 }, (_, i) => [{ wait: { duration: '1d' } }, send(`Day ${i + 1}`)]).flat();
      const seq = enabledProgram({ id: 'seq', name: 'Sequence', entry: { event: 'Pong' }, steps });
      const h = new History();
      h.track('2025-03-01T10:00:00Z', 'Ping');
      const { decided } = simulateCustomer([ping, seq], h.events, new Date('2025-04-01T00:00:00Z'));
      expect(subjects(decided)).toHaveLength(MAX_CAUSAL_DEPTH + 2);
      expect(ofType(decided, 'TriggerRunExited').map((e) => e.data.reason)).toEqual(['completed', 'completed']);
    });
  });
});
