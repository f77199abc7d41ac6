import { describe, expect, it } from 'vitest';
import {
  aboutPerDay,
  countsText,
  defaultPeriod,
  draftChanges,
  draftDefinition,
  impactSentence,
  impactStepRows,
  liftRows,
  liftText,
  perDayRows,
  periodRange,
  policyRefusal,
  reachRows,
  sampleCustomers,
  stepOptions,
  suppressionRows,
  totals,
  versionRows,
  type BacktestReport,
  type DryRunReport,
  type TriggerImpact,
} from './actions-logic';
import type { TriggerVersionStats } from '../../lib/trigger-stats';

const NOW = Date.parse('2026-03-10T15:30:00Z');

const report = (over: Partial<BacktestReport> = {}): BacktestReport => ({
  triggerId: 'welcome',
  version: 2,
  from: '2026-02-08T00:00:00.000Z',
  to: '2026-03-10T15:30:00.000Z',
  eventsReplayed: 40,
  contextEvents: 3,
  customers: 9,
  entered: { runs: 5, customers: 4, sampleCustomerIds: ['ada', 'bob'] },
  steps: [
    { step: '0', kind: 'wait', label: 'wait 1d', runs: 5, customers: 4, sampleCustomerIds: ['ada', 'bob'] },
    {
      step: '1',
      kind: 'send',
      label: 'send email: Welcome',
      runs: 5,
      customers: 4,
      sampleCustomerIds: ['bob', 'cy'],
      sent: { email: 3 },
      suppressed: { consent: 1, 'frequency-cap': 1 },
    },
  ],
  messages: { sent: { email: 3 }, suppressed: { consent: 1, 'frequency-cap': 1 }, deferredByQuietHours: 0 },
  exits: { completed: 5 },
  activeAtEnd: 0,
  ...over,
});

const d = (current: number, candidate: number) => ({ current, candidate, difference: candidate - current });
const none = { customers: 0, sampleCustomerIds: [] };

const dryRun = (over: Partial<DryRunReport> = {}): DryRunReport => ({
  triggerId: 'welcome',
  from: '2026-03-03T15:30:00.000Z',
  to: '2026-03-10T15:30:00.000Z',
  days: 7,
  current: null,
  candidate: { version: 1, report: report({ version: 1 }) },
  entered: { ...d(0, 12), starts: { customers: 12, sampleCustomerIds: ['a'] }, stops: none },
  steps: [
    {
      step: 'send email: Welcome',
      kind: 'send',
      candidateAddress: '0',
      runs: d(0, 12),
      customers: d(0, 12),
      messages: { email: d(0, 12) },
      suppressed: {},
      tasks: d(0, 0),
      starts: { customers: 12, sampleCustomerIds: ['a', 'b'] },
      stops: none,
    },
    {
      step: 'wait 1d',
      kind: 'wait',
      candidateAddress: '1',
      runs: d(0, 12),
      customers: d(0, 12),
      messages: {},
      suppressed: {},
      tasks: d(0, 0),
      starts: { customers: 12, sampleCustomerIds: [] },
      stops: none,
    },
  ],
  messages: { email: d(0, 12) },
  suppressed: {},
  tasks: d(0, 0),
  messaged: { ...d(0, 12), starts: { customers: 12, sampleCustomerIds: ['a'] }, stops: none },
  messagesPerDay: {
    current: null,
    candidate: { average: 1.71, peak: 6, peakDay: '2026-03-05', total: 12, days: { '2026-03-05': 6, '2026-03-04': 4, '2026-03-09': 2 } },
    difference: { average: 1.71, peak: 6 },
  },
  ...over,
});

const impact = (over: Partial<TriggerImpact> = {}): TriggerImpact => ({
  dryRun: true,
  change: 'enable',
  triggerId: 'welcome',
  takesEffect: 'now',
  impact: dryRun(),
  ...over,
});

describe('periods', () => {
  it('defaults to the last 30 days (UTC days) ending today', () => {
    expect(defaultPeriod(NOW)).toEqual({ from: '2026-02-08', to: '2026-03-10' });
    expect(defaultPeriod(NOW, 7)).toEqual({ from: '2026-03-03', to: '2026-03-10' });
  });

  it('turns days into the engine range: to exclusive at the end of its day, left out when that is still to come', () => {
    expect(periodRange('2026-02-01', '2026-02-28', NOW)).toEqual({
      ok: true,
      from: '2026-02-01T00:00:00.000Z',
      to: '2026-03-01T00:00:00.000Z',
    });
    expect(periodRange('2026-02-08', '2026-03-10', NOW)).toEqual({ ok: true, from: '2026-02-08T00:00:00.000Z' });
  });

  it('names what is wrong with a period', () => {
    expect(periodRange('2026-03-05', '2026-03-01', NOW)).toEqual({ ok: false, error: 'From must be on or before To' });
    expect(periodRange('', '2026-03-01', NOW)).toMatchObject({ ok: false, error: expect.stringMatching(/^From:/) });
    expect(periodRange('2026-03-01', '03/05/2026', NOW)).toMatchObject({ ok: false, error: expect.stringMatching(/^To:/) });
    expect(periodRange('2026-04-01', '2026-04-02', NOW)).toEqual({ ok: false, error: 'From must be in the past' });
  });
});

describe('steps of a trigger document', () => {
  it('lists nested steps with the paths the preview takes, and which can be test-sent', () => {
    const steps = stepOptions({
      steps: [
        { wait: { duration: '1d' } },
        {
          branch: {
            if: {},
            then: [{ send: { channel: 'email', subject: 'Hi' } }],
            else: [{ send: { channel: 'webhook', body: '{}' } }],
          },
        },
        { split: { variants: [{ name: 'a', steps: [{ task: { title: 'Call' } }] }] } },
        { reply: { body: 'thanks' } },
      ],
    });
    expect(steps.map((s) => [s.path, s.label, s.testable])).toEqual([
      ['steps[0]', 'steps[0] · wait 1d', false],
      ['steps[1]', 'steps[1] · branch', false],
      ['steps[1].branch.then[0]', 'steps[1].branch.then[0] · send email: Hi', true],
      ['steps[1].branch.else[0]', 'steps[1].branch.else[0] · send webhook', false],
      ['steps[2]', 'steps[2] · split', false],
      ['steps[2].split.variants[0].steps[0]', 'steps[2].split.variants[0].steps[0] · task: Call', false],
      ['steps[3]', 'steps[3] · reply', true],
    ]);
    expect(stepOptions(undefined)).toEqual([]);
    expect(stepOptions({ steps: 'nope' })).toEqual([]);
  });

  it('reads a YAML draft, and says why one does not parse', () => {
    expect(draftDefinition('id: a\nsteps:\n  - send: { channel: email }\n')).toEqual({
      definition: { id: 'a', steps: [{ send: { channel: 'email' } }] },
    });
    expect(draftDefinition(undefined)).toEqual({});
    expect(draftDefinition('   ')).toEqual({});
    expect(draftDefinition('id: [unclosed').error?.message).toMatch(/^the draft is not valid YAML: /);
  });

  it('tells a draft that changes the stored definition from one that only re-lays it out', () => {
    const stored = { id: 'a', entry: { event: 'Signed Up' }, steps: [{ send: { channel: 'email', body: 'Hi' } }] };
    const same = 'id: a\nentry: { event: Signed Up }\nsteps:\n  - send: { channel: email, body: Hi }\n';
    expect(draftChanges(same, stored)).toBe(false);
    // keys in another order, comments and flow style: the same definition
    expect(draftChanges('# tips\nsteps: [{ send: { body: Hi, channel: email } }]\nentry:\n  event: Signed Up\nid: a\n', stored)).toBe(
      false,
    );
    expect(draftChanges(same.replace('Hi', 'Hello'), stored)).toBe(true);
    expect(draftChanges(same.replace('Signed Up', 'Logged In'), stored)).toBe(true);
    // a step added or reordered changes it
    expect(draftChanges(`${same}  - wait: { duration: 1d }\n`, stored)).toBe(true);
    expect(draftChanges('id: [unclosed', stored)).toBe(true);
    expect(draftChanges(undefined, stored)).toBe(false);
    expect(draftChanges('  ', stored)).toBe(false);
  });
});

describe('backtest shaping', () => {
  it('puts the entry first and totals each step', () => {
    const rows = reachRows(report());
    expect(rows.map((r) => [r.step, r.label, r.customers, r.sent, r.suppressed])).toEqual([
      ['entry', 'Entered', 4, 0, 0],
      ['0', 'wait 1d', 4, 0, 0],
      ['1', 'send email: Welcome', 4, 3, 2],
    ]);
  });

  it('sorts suppressions by count then reason, falling back to the steps', () => {
    const r = report({ messages: { sent: {}, suppressed: { consent: 1, 'frequency-cap': 4, priority: 1 }, deferredByQuietHours: 0 } });
    expect(suppressionRows(r)).toEqual([
      { reason: 'frequency-cap', count: 4 },
      { reason: 'consent', count: 1 },
      { reason: 'priority', count: 1 },
    ]);
    const fromSteps = report({ messages: { sent: {}, suppressed: {}, deferredByQuietHours: 0 } });
    expect(suppressionRows(fromSteps)).toEqual([
      { reason: 'consent', count: 1 },
      { reason: 'frequency-cap', count: 1 },
    ]);
  });

  it('lists each sample customer once', () => {
    expect(sampleCustomers(report())).toEqual(['ada', 'bob', 'cy']);
    expect(countsText({ email: 3, inbox: 0, log: 1 })).toBe('email 3, log 1');
    expect(countsText(undefined)).toBe('—');
  });
});

describe('the impact sentence', () => {
  it('states messages a day, customers and the policy limit', () => {
    const policy = {
      limit: 10,
      period: '7d',
      estimate: { peak: 6, peakDay: '2026-03-05', average: 1.71, from: '', to: '' },
      exceeded: false,
    };
    expect(impactSentence(impact({ policy }))).toBe(
      'Enabling welcome will send about 2 messages a day (busiest day 6, on 2026-03-05) to 12 customers, judging by the last 7 days. ' +
        'Policy limit: 10 messages a day (busiest day over the last 7d: 6) — within the limit.',
    );
    expect(impactSentence(impact({ policy: { ...policy, limit: 5, exceeded: true } }))).toContain(
      'Policy limit: 5 messages a day (busiest day over the last 7d: 6) — over the limit, the engine will refuse it.',
    );
  });

  it('compares with the live version, says when nothing changes or it waits for an enable', () => {
    const live = dryRun({
      current: { version: 1, report: report({ version: 1 }) },
      messaged: { ...d(10, 12), starts: { customers: 3, sampleCustomerIds: [] }, stops: { customers: 1, sampleCustomerIds: [] } },
    });
    const s = impactSentence(impact({ impact: live, takesEffect: 'on enable', change: 'update' }), 'save');
    expect(s).toMatch(/^Saving this version of welcome will send about 2 messages a day/);
    expect(s).toContain('compared with the live version 1, 3 start and 1 stop getting messages.');
    expect(s).toContain('The workspace has no policy limit on daily messages.');
    expect(s).toMatch(/It takes effect when the trigger is enabled\.$/);
    expect(impactSentence(impact({ takesEffect: 'nothing changes' }))).toBe(
      'Enabling welcome changes nothing: this version is already live.',
    );
  });

  it('says fractions of a message a day as such, and one in the singular', () => {
    const day = { average: 0.43, peak: 1, peakDay: '2026-03-05', total: 3, days: {} };
    expect(aboutPerDay(day)).toBe(0.4);
    expect(aboutPerDay({ ...day, average: 12.6 })).toBe(13);
    const one = dryRun({
      messaged: { ...d(0, 1), starts: none, stops: none },
      messagesPerDay: { current: null, candidate: { ...day, average: 1 }, difference: { average: 1, peak: 1 } },
    });
    expect(impactSentence(impact({ impact: one }))).toMatch(/about 1 message a day .* to 1 customer, /);
  });
});

describe('impact rows', () => {
  it('one row per step and channel, steps without messages once', () => {
    expect(impactStepRows(dryRun()).map((r) => [r.step, r.channel, r.current, r.candidate, r.difference, r.starts.customers])).toEqual([
      ['send email: Welcome', 'email', 0, 12, 12, 12],
      ['wait 1d', '—', 0, 12, 12, 12],
    ]);
  });

  it('messages per day over every day of either version, in order', () => {
    const r = dryRun({
      messagesPerDay: {
        current: { average: 1, peak: 3, peakDay: '2026-03-01', total: 4, days: { '2026-03-01': 3, '2026-03-05': 1 } },
        candidate: { average: 1, peak: 2, peakDay: '2026-03-05', total: 2, days: { '2026-03-05': 2 } },
        difference: { average: 0, peak: -1 },
      },
    });
    expect(perDayRows(r)).toEqual([
      { day: '2026-03-01', current: 3, candidate: 0 },
      { day: '2026-03-05', current: 1, candidate: 2 },
    ]);
  });

  it('reads a policy refusal body', () => {
    expect(policyRefusal({ message: 'policy: too many', policy: { limit: 2 } })).toEqual({
      message: 'policy: too many',
      policy: { limit: 2 },
    });
    expect(policyRefusal({ message: 'policy: too many' })).toEqual({ message: 'policy: too many' });
    expect(policyRefusal('text')).toBeUndefined();
    expect(policyRefusal({ statusCode: 422 })).toBeUndefined();
  });
});

describe('statistics shaping', () => {
  const step = (over: Partial<TriggerVersionStats['steps'][number]>) => ({
    step: '0',
    kind: 'send',
    entered: 0,
    scheduled: 0,
    sent: 0,
    delivered: 0,
    failed: 0,
    opened: 0,
    clicked: 0,
    suppressed: {},
    converted: 0,
    ...over,
  });
  const group = (converted: number, runs: number) => ({ runs, converted, conversionRate: runs ? converted / runs : null, ci95: null });
  const v1: TriggerVersionStats = {
    triggerId: 't',
    version: 1,
    runs: 10,
    treated: 8,
    converted: 2,
    conversionRate: 0.25,
    holdout: { runs: 2, converted: 0, conversionRate: 0 },
    steps: [
      step({ sent: 5, delivered: 4, opened: 2, clicked: 1, suppressed: { consent: 2 } }),
      step({ step: '1', sent: 1, suppressed: { consent: 1, priority: 1 } }),
    ],
    live: { runs: 10, converted: 2, conversionRate: 0.2, messages: { email: 6 }, suppressed: { consent: 3, priority: 1 } },
    shadow: null,
    lift: null,
  };
  const v2: TriggerVersionStats = {
    ...v1,
    version: 2,
    steps: [step({ sent: 2, delivered: 2 })],
    live: { runs: 3, converted: 0, conversionRate: 0, messages: { email: 2 }, suppressed: {} },
    shadow: { runs: 4, converted: 1, conversionRate: 0.25, messages: { email: 3, inbox: 1 }, suppressed: { 'frequency-cap': 2 } },
    lift: {
      goals: ['Activated'],
      windowDays: 30,
      asOf: null,
      live: {
        holdout: group(1, 4),
        treated: {
          ...group(6, 12),
          lift: 1,
          liftCi95: { lower: -0.2, upper: 4.1234 },
          difference: 0.25,
          differenceCi95: null,
          method: 'm',
        },
        variants: [{ variant: 'a', ...group(6, 12), lift: 1, liftCi95: null, difference: 0.25, differenceCi95: null, method: 'm' }],
      },
      shadow: null,
    },
  };

  it('totals sent, delivered, opened, clicked and suppressed by reason over the steps', () => {
    expect(totals([v1, v2])).toEqual({ sent: 8, delivered: 6, opened: 2, clicked: 1, failed: 0, suppressed: { consent: 3, priority: 1 } });
  });

  it('live and shadow per version, newest first', () => {
    expect(versionRows([v1, v2])).toEqual([
      { version: 2, mode: 'live', runs: 3, messages: 2, suppressed: 0, converted: 0, conversionRate: '0.0%' },
      { version: 2, mode: 'shadow', runs: 4, messages: 4, suppressed: 2, converted: 1, conversionRate: '25.0%' },
      { version: 1, mode: 'live', runs: 10, messages: 6, suppressed: 4, converted: 2, conversionRate: '20.0%' },
    ]);
  });

  it('lift rows: holdout, treated and each variant, with the interval', () => {
    expect(liftRows([v1, v2]).map((r) => [r.version, r.mode, r.group, r.conversionRate, r.lift])).toEqual([
      [2, 'live', 'holdout', '25.0%', '—'],
      [2, 'live', 'treated (all variants)', '50.0%', '+100.0% (95% CI −20.0% to +412.3%)'],
      [2, 'live', 'variant a', '50.0%', '+100.0%'],
    ]);
    expect(liftText(null, null)).toBe('—');
    expect(liftText(-0.125, null)).toBe('−12.5%');
  });
});
