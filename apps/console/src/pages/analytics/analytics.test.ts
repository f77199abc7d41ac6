import { describe, expect, it } from 'vitest';
import {
  conversationRates,
  conversationTimes,
  durationUnit,
  funnelSummary,
  intervalText,
  liftAxisMax,
  liftChartData,
  liftRows,
  liftSummary,
  ratesSummary,
  signedPercent,
  stageFunnel,
  suppressionReasons,
  transitionSeries,
  transitionsSummary,
  triggerRows,
  type ConversationAnalytics,
  type ConversationFigures,
} from './shape';
import type { TriggerVersionStats } from '../../lib/trigger-stats';

describe('stages', () => {
  it('orders the funnel as the journey goes, unknown stages after, customers without a stage last', () => {
    const rows = stageFunnel({ none: 2, churned: 1, onboarding: 5, active: 3, 'at-risk': 0, renewal: 0, trial: 4 });
    expect(rows.map((r) => [r.label, r.customers])).toEqual([
      ['onboarding', 5],
      ['active', 3],
      ['at-risk', 0],
      ['renewal', 0],
      ['churned', 1],
      ['trial', 4],
      ['no stage yet', 2],
    ]);
    expect(funnelSummary(rows)).toBe(
      'Customers per stage now, 15 in all: onboarding 5, active 3, at-risk 0, renewal 0, churned 1, trial 4, no stage yet 2.',
    );
    expect(stageFunnel({ none: 0, onboarding: 1 }).map((r) => r.stage)).not.toContain('none');
  });

  it('turns transitions into one row per day (gaps at 0) and one series per kind, largest first', () => {
    const s = transitionSeries([
      { day: '2026-12-01', from: null, to: 'onboarding', count: 3 },
      { day: '2026-12-01', from: 'onboarding', to: 'active', count: 1 },
      { day: '2026-12-03', from: 'onboarding', to: 'active', count: 1 },
      { day: '2026-12-03', from: null, to: 'onboarding', count: 2 },
    ]);
    expect(s.keys).toEqual(['first seen → onboarding', 'onboarding → active']);
    expect(s.rows).toEqual([
      { day: '2026-12-01', 'first seen → onboarding': 3, 'onboarding → active': 1 },
      { day: '2026-12-02', 'first seen → onboarding': 0, 'onboarding → active': 0 },
      { day: '2026-12-03', 'first seen → onboarding': 2, 'onboarding → active': 1 },
    ]);
    expect(transitionsSummary(s)).toBe(
      'Stage transitions per day from 2026-12-01 to 2026-12-03: first seen → onboarding 5, onboarding → active 2.',
    );
    expect(transitionsSummary(transitionSeries([]))).toContain('none yet');
  });
});

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
const ci = (lower: number, upper: number) => ({ lower, upper });
const TRIGGER: TriggerVersionStats = {
  triggerId: 'nudge',
  version: 2,
  runs: 10,
  treated: 8,
  converted: 4,
  conversionRate: 0.5,
  holdout: { runs: 2, converted: 0, conversionRate: 0 },
  steps: [
    step({
      step: '0',
      entered: 10,
      scheduled: 6,
      sent: 6,
      delivered: 5,
      opened: 3,
      clicked: 1,
      suppressed: { consent: 1, 'frequency-cap': 1 },
    }),
    step({ step: '1', kind: 'send', entered: 4, scheduled: 3, sent: 3, delivered: 3, opened: 1, suppressed: { consent: 1 } }),
  ],
  live: { runs: 10, converted: 4, conversionRate: 0.4, messages: { inbox: 9 }, suppressed: { consent: 2, 'frequency-cap': 1 } },
  shadow: null,
  lift: {
    goals: ['Upgraded'],
    windowDays: 30,
    asOf: null,
    live: {
      holdout: { runs: 2, converted: 1, conversionRate: 0.5, ci95: ci(0.1, 0.9) },
      treated: {
        runs: 8,
        converted: 6,
        conversionRate: 0.75,
        ci95: ci(0.41, 0.93),
        lift: 0.5,
        liftCi95: ci(-0.4, 2.7),
        difference: 0.25,
        differenceCi95: ci(-0.3, 0.7),
        method: 'm',
      },
      variants: [
        {
          variant: 'inbox',
          runs: 8,
          converted: 6,
          conversionRate: 0.75,
          ci95: ci(0.41, 0.93),
          lift: 0.5,
          liftCi95: ci(-0.4, 2.7),
          difference: 0.25,
          differenceCi95: ci(-0.3, 0.7),
          method: 'm',
        },
      ],
    },
    shadow: null,
  },
};

describe('trigger performance', () => {
  it("sums the steps' messages and suppressions per version", () => {
    const [row] = triggerRows([TRIGGER]);
    expect(row).toMatchObject({
      key: 'nudge v2',
      runs: 10,
      scheduled: 9,
      sent: 9,
      delivered: 8,
      opened: 4,
      clicked: 1,
      suppressed: 3,
      suppressedByReason: { consent: 2, 'frequency-cap': 1 },
      conversionRate: 0.5,
      holdoutRuns: 2,
      holdoutRate: 0,
    });
    expect(suppressionReasons([row])).toEqual(['consent', 'frequency-cap']);
  });

  it('gives treated vs holdout per variant with lift, intervals and error bars', () => {
    const rows = liftRows([TRIGGER, { ...TRIGGER, triggerId: 'plain', lift: null }]);
    expect(rows.map((r) => r.key)).toEqual(['nudge v2 · all variants', 'nudge v2 · inbox']);
    expect(rows[1]).toMatchObject({ mode: 'live', variant: 'inbox', rate: 0.75, holdoutRate: 0.5, lift: 0.5, liftCi: ci(-0.4, 2.7) });
    const data = liftChartData(rows);
    expect(data[0]).toEqual({
      key: 'nudge v2 · all variants',
      treated: 75,
      treatedCi: [41, 93],
      holdout: 50,
      holdoutCi: [10, 90],
    });
    expect(liftAxisMax(data)).toBe(100);
    expect(liftAxisMax([{ key: 'x', treated: 3, treatedCi: [1, 12.5], holdout: null, holdoutCi: null }])).toBe(20);
    expect(liftAxisMax([])).toBe(10);
    expect(liftSummary(rows)).toContain('nudge v2 · inbox 75.0% vs 50.0%, lift +50.0% (95% -40.0% to +270.0%)');
    expect(liftSummary([])).toContain('no version has a holdout');
    expect(signedPercent(null)).toBe('—');
    expect(intervalText(ci(0.1, 0.25))).toBe('10.0% to 25.0%');
  });
});

const figures = (over: Partial<ConversationFigures> = {}): ConversationFigures => ({
  conversations: 4,
  firstResponseSeconds: { count: 3, p50: 120, p90: 300 },
  resolutionSeconds: { count: 3, p50: 600, p90: 3600 },
  sla: { withTarget: 2, met: 1, breached: 1, pending: 0, attainment: 0.5, byTarget: {} },
  csat: { resolved: 3, rated: 1, average: 4, responseRate: 0.3333 },
  repeatContact: { resolutions: 3, repeated: 1, rate: 0.3333 },
  engagement: {
    activeCustomers: 2,
    weeks: 2,
    conversations: 4,
    replies: 4,
    conversationsPerCustomerPerWeek: 1,
    repliesPerCustomerPerWeek: 1,
  },
  automation: { resolved: 3, automated: 2, rate: 0.6667 },
  ...over,
});

describe('conversation measures', () => {
  const answer: ConversationAnalytics = {
    from: '2025-03-01T00:00:00.000Z',
    to: '2025-03-15T00:00:00.000Z',
    groupBy: 'team',
    method: {},
    overall: figures(),
    groups: [
      { key: '', ...figures({ conversations: 3, sla: { ...figures().sla, attainment: null } }) },
      { key: 'support', ...figures({ conversations: 1 }) },
    ],
    tasks: { opened: 0, closed: 0, sla: { withTarget: 0, met: 0, breached: 0, pending: 0, attainment: null } },
  };
  it('gives the rates in percent per group, overall first, with nothing measured as a gap', () => {
    const rows = conversationRates(answer);
    expect(rows.map((r) => r.label)).toEqual(['All', '(no team)', 'support']);
    expect(rows[0]).toEqual({
      label: 'All',
      'SLA attainment': 50,
      'CSAT response rate': 33.3,
      'Repeat contact': 33.3,
      'Automation rate': 66.7,
    });
    expect(rows[1]['SLA attainment']).toBeNull();
    expect(ratesSummary(answer)).toBe(
      'Conversation rates, 4 conversations in all: SLA attainment 50.0%, CSAT response rate 33.3%, repeat contact 33.3%, automation rate 66.7%; by team: (none), support.',
    );
  });
  it('shows the times in the unit that reads best', () => {
    expect(durationUnit([30, 90, null])).toMatchObject({ unit: 's' });
    expect(durationUnit([300])).toMatchObject({ unit: 'min', divisor: 60 });
    expect(durationUnit([4 * 3600])).toMatchObject({ unit: 'h' });
    const { unit, rows } = conversationTimes(answer);
    expect(unit.unit).toBe('min');
    expect(rows[0]).toEqual({
      label: 'All',
      'First response p50': 2,
      'First response p90': 5,
      'Resolution p50': 10,
      'Resolution p90': 60,
    });
  });
});
