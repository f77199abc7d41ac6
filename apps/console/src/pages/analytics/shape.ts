/**
 * Pure shaping of the analytics answers (GET /v1/analytics/stages, /triggers, /conversations) into chart data, table
 * rows and the sentences the charts are named by. Unit-tested in analytics.test.ts.
 */
import type { Interval, TriggerVersionStats } from '../../lib/trigger-stats';

// ── stages

export interface StageAnalytics {
  customersPerStage: Record<string, number>;
  transitions: { day: string; from: string | null; to: string; count: number }[];
}

export const STAGE_ORDER = ['onboarding', 'active', 'at-risk', 'renewal', 'churned'];

export interface FunnelRow {
  stage: string;
  label: string;
  customers: number;
}

/** Customers per stage in the journey's order (unknown stages after them, "no stage yet" last). */
export function stageFunnel(customersPerStage: Record<string, number>): FunnelRow[] {
  const known = STAGE_ORDER.map((stage) => ({ stage, label: stage, customers: customersPerStage[stage] ?? 0 }));
  const others = Object.keys(customersPerStage)
    .filter((s) => !STAGE_ORDER.includes(s) && s !== 'none')
    .sort()
    .map((stage) => ({ stage, label: stage, customers: customersPerStage[stage] }));
  const none = customersPerStage.none ? [{ stage: 'none', label: 'no stage yet', customers: customersPerStage.none }] : [];
  return [...known, ...others, ...none];
}

export const transitionKey = (from: string | null, to: string) => `${from ?? 'first seen'} → ${to}`;

/**
 * Transitions per day as chart rows: one row per day from the first to the last (days without any at 0), one key per
 * kind of transition ("onboarding → active"), the kinds ordered by their total, largest first.
 */
export function transitionSeries(transitions: StageAnalytics['transitions']): {
  keys: string[];
  rows: Array<Record<string, number | string>>;
  totals: Record<string, number>;
} {
  if (transitions.length === 0) return { keys: [], rows: [], totals: {} };
  const totals: Record<string, number> = {};
  const byDay = new Map<string, Record<string, number>>();
  for (const t of transitions) {
    const key = transitionKey(t.from, t.to);
    totals[key] = (totals[key] ?? 0) + t.count;
    const day = byDay.get(t.day) ?? {};
    day[key] = (day[key] ?? 0) + t.count;
    byDay.set(t.day, day);
  }
  const keys = Object.keys(totals).sort((a, b) => totals[b] - totals[a] || a.localeCompare(b));
  const days = [...byDay.keys()].sort();
  const rows: Array<Record<string, number | string>> = [];
  for (let t = Date.parse(`${days[0]}T00:00:00Z`); t <= Date.parse(`${days[days.length - 1]}T00:00:00Z`); t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    const counts = byDay.get(day) ?? {};
    rows.push({ day, ...Object.fromEntries(keys.map((k) => [k, counts[k] ?? 0])) });
  }
  return { keys, rows, totals };
}

export function funnelSummary(rows: readonly FunnelRow[]): string {
  const total = rows.reduce((n, r) => n + r.customers, 0);
  return `Customers per stage now, ${total} in all: ${rows.map((r) => `${r.label} ${r.customers}`).join(', ')}.`;
}

export function transitionsSummary(series: ReturnType<typeof transitionSeries>): string {
  if (series.keys.length === 0) return 'Stage transitions per day: none yet.';
  const first = series.rows[0].day;
  const last = series.rows[series.rows.length - 1].day;
  return `Stage transitions per day from ${first} to ${last}: ${series.keys.map((k) => `${k} ${series.totals[k]}`).join(', ')}.`;
}

// ── triggers

export interface TriggerRow {
  key: string;
  triggerId: string;
  version: number;
  runs: number;
  scheduled: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  failed: number;
  suppressed: number;
  suppressedByReason: Record<string, number>;
  converted: number;
  conversionRate: number | null;
  holdoutRuns: number;
  holdoutConverted: number;
  holdoutRate: number | null;
}

export const versionKey = (t: { triggerId: string; version: number }) => `${t.triggerId} v${t.version}`;

/** Per trigger and version: the steps' message counts summed, suppressions by reason, conversion vs holdout. */
export function triggerRows(triggers: readonly TriggerVersionStats[]): TriggerRow[] {
  return [...triggers]
    .sort((a, b) => a.triggerId.localeCompare(b.triggerId) || a.version - b.version)
    .map((t) => {
      const sum = (k: 'scheduled' | 'sent' | 'delivered' | 'opened' | 'clicked' | 'failed') => t.steps.reduce((n, s) => n + s[k], 0);
      const suppressedByReason: Record<string, number> = {};
      for (const s of t.steps) for (const [r, n] of Object.entries(s.suppressed)) suppressedByReason[r] = (suppressedByReason[r] ?? 0) + n;
      return {
        key: versionKey(t),
        triggerId: t.triggerId,
        version: t.version,
        runs: t.runs,
        scheduled: sum('scheduled'),
        sent: sum('sent'),
        delivered: sum('delivered'),
        opened: sum('opened'),
        clicked: sum('clicked'),
        failed: sum('failed'),
        suppressed: Object.values(suppressedByReason).reduce((n, x) => n + x, 0),
        suppressedByReason,
        converted: t.converted,
        conversionRate: t.conversionRate,
        holdoutRuns: t.holdout.runs,
        holdoutConverted: t.holdout.converted,
        holdoutRate: t.holdout.conversionRate,
      };
    });
}

/** Every suppression reason in the rows, most frequent first. */
export function suppressionReasons(rows: readonly TriggerRow[]): string[] {
  const totals: Record<string, number> = {};
  for (const r of rows) for (const [reason, n] of Object.entries(r.suppressedByReason)) totals[reason] = (totals[reason] ?? 0) + n;
  return Object.keys(totals).sort((a, b) => totals[b] - totals[a] || a.localeCompare(b));
}

export interface LiftRow {
  key: string;
  triggerId: string;
  version: number;
  mode: 'live' | 'shadow';
  /** A variant's name, or "all variants". */
  variant: string;
  runs: number;
  converted: number;
  rate: number | null;
  ci: Interval | null;
  holdoutRuns: number;
  holdoutConverted: number;
  holdoutRate: number | null;
  holdoutCi: Interval | null;
  lift: number | null;
  liftCi: Interval | null;
  difference: number | null;
  differenceCi: Interval | null;
}

/** Treated vs holdout per trigger, version, mode and variant ("all variants" first), for versions with a split. */
export function liftRows(triggers: readonly TriggerVersionStats[]): LiftRow[] {
  const rows: LiftRow[] = [];
  for (const t of [...triggers].sort((a, b) => a.triggerId.localeCompare(b.triggerId) || a.version - b.version)) {
    for (const mode of ['live', 'shadow'] as const) {
      const m = t.lift?.[mode];
      if (!m) continue;
      const groups = [{ ...m.treated, variant: 'all variants' }, ...m.variants];
      for (const g of groups)
        rows.push({
          key: `${versionKey(t)}${mode === 'shadow' ? ' (shadow)' : ''} · ${g.variant}`,
          triggerId: t.triggerId,
          version: t.version,
          mode,
          variant: g.variant,
          runs: g.runs,
          converted: g.converted,
          rate: g.conversionRate,
          ci: g.ci95,
          holdoutRuns: m.holdout.runs,
          holdoutConverted: m.holdout.converted,
          holdoutRate: m.holdout.conversionRate,
          holdoutCi: m.holdout.ci95,
          lift: g.lift,
          liftCi: g.liftCi95,
          difference: g.difference,
          differenceCi: g.differenceCi95,
        });
    }
  }
  return rows;
}

/** Lift rows as chart data: rates in percent with their 95% intervals ([lower, upper], in percent) for the whiskers. */
export function liftChartData(rows: readonly LiftRow[]) {
  const pct = (x: number | null) => (x === null ? null : round(x * 100, 2));
  const interval = (ci: Interval | null): [number, number] | null =>
    ci === null ? null : [round(ci.lower * 100, 2), round(ci.upper * 100, 2)];
  return rows.map((r) => ({
    key: r.key,
    treated: pct(r.rate),
    treatedCi: interval(r.ci),
    holdout: pct(r.holdoutRate),
    holdoutCi: interval(r.holdoutCi),
  }));
}

/** The top of the conversion axis: the highest rate or interval bound, rounded up to 10 points (at least 10, at most 100). */
export function liftAxisMax(data: ReturnType<typeof liftChartData>): number {
  const highest = Math.max(0, ...data.flatMap((d) => [d.treated ?? 0, d.holdout ?? 0, d.treatedCi?.[1] ?? 0, d.holdoutCi?.[1] ?? 0]));
  return Math.min(100, Math.max(10, Math.ceil(highest / 10) * 10));
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** 0.1234 → "+12.3%"; null → "—". */
export function signedPercent(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  return `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
}

export function intervalText(ci: Interval | null | undefined, signed = false): string {
  if (!ci) return '—';
  const f = signed ? signedPercent : (x: number) => `${(x * 100).toFixed(1)}%`;
  return `${f(ci.lower)} to ${f(ci.upper)}`;
}

export function triggerSummary(rows: readonly TriggerRow[]): string {
  if (rows.length === 0) return 'Trigger messages: no trigger has run yet.';
  return `Trigger messages per version: ${rows
    .map((r) => `${r.key} sent ${r.sent}, delivered ${r.delivered}, opened ${r.opened}, clicked ${r.clicked}`)
    .join('; ')}.`;
}

export function suppressionSummary(rows: readonly TriggerRow[], reasons: readonly string[]): string {
  if (reasons.length === 0) return 'Suppressed messages by reason: none.';
  return `Suppressed messages by reason: ${rows
    .filter((r) => r.suppressed > 0)
    .map(
      (r) =>
        `${r.key}: ${reasons
          .filter((x) => r.suppressedByReason[x])
          .map((x) => `${x} ${r.suppressedByReason[x]}`)
          .join(', ')}`,
    )
    .join('; ')}.`;
}

export function liftSummary(rows: readonly LiftRow[]): string {
  if (rows.length === 0) return 'Conversion, treated vs holdout: no version has a holdout yet.';
  const pct = (x: number | null) => (x === null ? 'no rate' : `${(x * 100).toFixed(1)}%`);
  return `Conversion, treated vs holdout: ${rows
    .map((r) => `${r.key} ${pct(r.rate)} vs ${pct(r.holdoutRate)}, lift ${signedPercent(r.lift)} (95% ${intervalText(r.liftCi, true)})`)
    .join('; ')}.`;
}

// ── conversations

export interface Percentiles {
  count: number;
  p50: number | null;
  p90: number | null;
}
interface SlaFigures {
  withTarget: number;
  met: number;
  breached: number;
  pending: number;
  attainment: number | null;
}
export interface ConversationFigures {
  conversations: number;
  firstResponseSeconds: Percentiles;
  resolutionSeconds: Percentiles;
  sla: SlaFigures & { byTarget: Record<string, SlaFigures> };
  csat: { resolved: number; rated: number; average: number | null; responseRate: number | null };
  repeatContact: { resolutions: number; repeated: number; rate: number | null };
  engagement: {
    activeCustomers: number;
    weeks: number;
    conversations: number;
    replies: number;
    conversationsPerCustomerPerWeek: number | null;
    repliesPerCustomerPerWeek: number | null;
  };
  automation: { resolved: number; automated: number; rate: number | null };
}
export interface ConversationAnalytics {
  from: string;
  to: string;
  groupBy: string | null;
  method: Record<string, string>;
  overall: ConversationFigures;
  groups: Array<{ key: string } & ConversationFigures>;
  tasks: { opened: number; closed: number; sla: SlaFigures };
}

/** The unit durations read best in: seconds, minutes or hours, by the largest value. */
export function durationUnit(seconds: ReadonlyArray<number | null>): { unit: 's' | 'min' | 'h'; divisor: number; label: string } {
  const max = Math.max(0, ...seconds.filter((s): s is number => s !== null));
  if (max >= 3 * 3600) return { unit: 'h', divisor: 3600, label: 'hours' };
  if (max >= 180) return { unit: 'min', divisor: 60, label: 'minutes' };
  return { unit: 's', divisor: 1, label: 'seconds' };
}

/** The rows of the conversation figures (overall and each group): one label per group ("All" for overall). */
export function conversationGroups(a: ConversationAnalytics): Array<{ key: string; label: string } & ConversationFigures> {
  const groups = a.groups.map((g) => ({ ...g, label: g.key === '' ? `(no ${a.groupBy ?? 'group'})` : g.key }));
  return [{ ...a.overall, key: '*', label: 'All' }, ...groups];
}

export const ratePct = (x: number | null) => (x === null ? null : round(x * 100, 1));

/** Chart rows: per group, the rates in percent (null where there is nothing to measure yet). */
export function conversationRates(a: ConversationAnalytics) {
  return conversationGroups(a).map((g) => ({
    label: g.label,
    'SLA attainment': ratePct(g.sla.attainment),
    'CSAT response rate': ratePct(g.csat.responseRate),
    'Repeat contact': ratePct(g.repeatContact.rate),
    'Automation rate': ratePct(g.automation.rate),
  }));
}

export const RATE_KEYS = ['SLA attainment', 'CSAT response rate', 'Repeat contact', 'Automation rate'] as const;
export const TIME_KEYS = ['First response p50', 'First response p90', 'Resolution p50', 'Resolution p90'] as const;

/** Chart rows: per group, first response and resolution p50 / p90 in `unit`. */
export function conversationTimes(a: ConversationAnalytics) {
  const groups = conversationGroups(a);
  const unit = durationUnit(
    groups.flatMap((g) => [g.firstResponseSeconds.p50, g.firstResponseSeconds.p90, g.resolutionSeconds.p50, g.resolutionSeconds.p90]),
  );
  const v = (s: number | null) => (s === null ? null : round(s / unit.divisor, 2));
  return {
    unit,
    rows: groups.map((g) => ({
      label: g.label,
      'First response p50': v(g.firstResponseSeconds.p50),
      'First response p90': v(g.firstResponseSeconds.p90),
      'Resolution p50': v(g.resolutionSeconds.p50),
      'Resolution p90': v(g.resolutionSeconds.p90),
    })),
  };
}

export function ratesSummary(a: ConversationAnalytics): string {
  const o = a.overall;
  const p = (x: number | null) => (x === null ? 'not measured yet' : `${(x * 100).toFixed(1)}%`);
  return (
    `Conversation rates, ${o.conversations} conversation${o.conversations === 1 ? '' : 's'} in all: SLA attainment ${p(o.sla.attainment)}, ` +
    `CSAT response rate ${p(o.csat.responseRate)}, repeat contact ${p(o.repeatContact.rate)}, automation rate ${p(o.automation.rate)}` +
    (a.groups.length ? `; by ${a.groupBy}: ${a.groups.map((g) => g.key || '(none)').join(', ')}.` : '.')
  );
}

export function timesSummary(a: ConversationAnalytics): string {
  const { unit } = conversationTimes(a);
  const o = a.overall;
  const t = (s: number | null) => (s === null ? 'none yet' : `${round(s / unit.divisor, 2)} ${unit.label}`);
  return `Response times: first response p50 ${t(o.firstResponseSeconds.p50)}, p90 ${t(o.firstResponseSeconds.p90)}; resolution p50 ${t(o.resolutionSeconds.p50)}, p90 ${t(o.resolutionSeconds.p90)}.`;
}
