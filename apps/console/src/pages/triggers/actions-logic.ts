/**
 * Pure logic of the trigger action panels (preview, backtest, impact, enable, statistics): the engine's answers
 * shaped into rows, the impact stated in one sentence, and the default periods. No React here: unit-tested.
 */

import { parse as parseYaml } from 'yaml';
import type { GroupConversion, Interval, LiftFigures, TriggerVersionStats } from '../../lib/trigger-stats';

const DAY = 86_400_000;

/** The editor's draft as a trigger definition (YAML or JSON text), or the error in words; nothing for no draft. */
export function draftDefinition(draft: string | undefined): { definition?: unknown; error?: Error } {
  if (draft === undefined || draft.trim() === '') return {};
  try {
    return { definition: parseYaml(draft) as unknown };
  } catch (error) {
    return { error: new Error(`the draft is not valid YAML: ${(error as Error).message.split('\n')[0]}`) };
  }
}

/** JSON with object keys sorted at every level: two definitions are the same when their canonical texts are. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/**
 * Whether the editor's draft changes the stored definition: not when it parses to the same definition (whatever its
 * layout or key order); a draft that is not YAML changes it (the panels then state its error).
 */
export function draftChanges(draft: string | undefined, stored: unknown): boolean {
  if (draft === undefined || draft.trim() === '') return false;
  const { definition, error } = draftDefinition(draft);
  return error !== undefined || canonical(definition) !== canonical(stored);
}

// ---- shapes of the engine's answers (apps/engine/src/previews, backtest, triggers) ----

export interface GuardVerdict {
  guard: string;
  verdict: string;
  detail: string;
}

export interface PreviewAnswer {
  triggerId: string;
  version: number;
  customerId: string;
  asOf: string;
  step: { address: string; path: string; kind: string };
  channel?: string;
  to?: string;
  subject?: string;
  body?: string;
  request?: { url: string; method: string; headers: Record<string, string> };
  title?: string;
  guards: GuardVerdict[];
  verdict: 'send' | 'suppress' | 'defer' | 'none';
  suppressed?: { reason: string; detail: string };
  deferredTo?: string;
  templateErrors: string[];
  cause?: { id: string; name: string; at: string };
  timeZone: string;
  notes: string[];
}

export interface TestSendAnswer {
  messageId: string;
  customerId: string;
  channel: string;
  to: string;
  test: true;
  preview: PreviewAnswer;
}

export interface Reach {
  runs: number;
  customers: number;
  sampleCustomerIds: string[];
}

export interface BacktestStep extends Reach {
  step: string;
  kind: string;
  label: string;
  branches?: Record<string, number>;
  outcomes?: Record<string, number>;
  sent?: Record<string, number>;
  deferredByQuietHours?: number;
  suppressed?: Record<string, number>;
}

export interface BacktestReport {
  triggerId: string;
  version: number;
  from: string | null;
  to: string;
  eventsReplayed: number;
  contextEvents: number;
  customers: number;
  entered: Reach;
  steps: BacktestStep[];
  messages: { sent: Record<string, number>; suppressed: Record<string, number>; deferredByQuietHours: number };
  exits: Record<string, number>;
  activeAtEnd: number;
}

export interface Difference {
  current: number;
  candidate: number;
  difference: number;
}

export interface CustomerChange {
  customers: number;
  sampleCustomerIds: string[];
}

export interface StepImpact {
  step: string;
  kind: string;
  currentAddress?: string;
  candidateAddress?: string;
  runs: Difference;
  customers: Difference;
  messages: Record<string, Difference>;
  suppressed: Record<string, Difference>;
  tasks: Difference;
  starts: CustomerChange;
  stops: CustomerChange;
}

export interface MessagesPerDay {
  average: number;
  peak: number;
  peakDay: string | null;
  total: number;
  days: Record<string, number>;
}

export interface DryRunReport {
  triggerId: string;
  from: string;
  to: string;
  days: number;
  current: { version: number; report: BacktestReport } | null;
  candidate: { version: number; report: BacktestReport };
  entered: Difference & { starts: CustomerChange; stops: CustomerChange };
  steps: StepImpact[];
  messages: Record<string, Difference>;
  suppressed: Record<string, Difference>;
  tasks: Difference;
  messaged: Difference & { starts: CustomerChange; stops: CustomerChange };
  messagesPerDay: { current: MessagesPerDay | null; candidate: MessagesPerDay; difference: { average: number; peak: number } };
}

export interface PolicyVerdict {
  limit: number;
  period: string;
  estimate: { peak: number; peakDay: string | null; average: number; from: string; to: string };
  exceeded: boolean;
}

export interface TriggerImpact {
  dryRun: true;
  change: 'update' | 'enable';
  triggerId: string;
  takesEffect: 'now' | 'on enable' | 'nothing changes';
  policy?: PolicyVerdict;
  impact: DryRunReport;
}

// ---- periods ----

/** `YYYY-MM-DD` of a time, in UTC. */
export const utcDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The default period of a backtest or a dry-run: the last `days` days, ending today (UTC days, both inclusive). */
export function defaultPeriod(now: number, days = 30): { from: string; to: string } {
  return { from: utcDay(now - days * DAY), to: utcDay(now) };
}

/**
 * A period of days as the engine takes it: `from` at the start of its day, `to` exclusive at the end of its day, or
 * left out (the engine's now) when that end is still to come. Errors in words (for the form).
 */
export function periodRange(from: string, to: string, now: number): { ok: true; from: string; to?: string } | { ok: false; error: string } {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!day.test(from) || Number.isNaN(Date.parse(`${from}T00:00:00Z`))) return { ok: false, error: 'From: a date such as 2026-01-31' };
  if (!day.test(to) || Number.isNaN(Date.parse(`${to}T00:00:00Z`))) return { ok: false, error: 'To: a date such as 2026-01-31' };
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`) + DAY;
  if (start >= end) return { ok: false, error: 'From must be on or before To' };
  if (start >= now) return { ok: false, error: 'From must be in the past' };
  return end > now
    ? { ok: true, from: new Date(start).toISOString() }
    : { ok: true, from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

/** A `datetime-local` value (local time, minutes) as ISO 8601, or undefined when empty or not a time. */
export function localToIso(value: string): string | undefined {
  if (!value.trim()) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

// ---- steps of a trigger document ----

export interface StepOption {
  /** The document path the preview takes: `steps[2].branch.then[0]`. */
  path: string;
  kind: string;
  /** How a person reads it: `steps[1] · send email: Welcome`. */
  label: string;
  /** Whether a test send can send it (send / reply steps on email, inbox or log). */
  testable: boolean;
}

type Doc = Record<string, unknown>;
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

const STEP_KINDS = ['send', 'wait', 'branch', 'split', 'set', 'emit', 'task', 'reply', 'tag', 'handoff', 'resolve', 'webhook'];

/** Every step of a trigger document (nested ones too), in document order, as the preview names them. */
export function stepOptions(definition: unknown): StepOption[] {
  const out: StepOption[] = [];
  const walk = (steps: unknown, path: string) => {
    if (!Array.isArray(steps)) return;
    steps.forEach((step, i) => {
      if (!isDoc(step)) return;
      const p = `${path}[${i}]`;
      const kind = STEP_KINDS.find((k) => k in step) ?? Object.keys(step)[0] ?? 'step';
      const body = isDoc(step[kind]) ? step[kind] : {};
      const channel = typeof body.channel === 'string' ? body.channel : undefined;
      const what =
        kind === 'send'
          ? `send ${channel ?? ''}${typeof body.subject === 'string' ? `: ${body.subject}` : ''}`
          : kind === 'wait' && typeof body.duration === 'string'
            ? `wait ${body.duration}`
            : kind === 'task' && typeof body.title === 'string'
              ? `task: ${body.title}`
              : kind;
      const testable = (kind === 'send' && ['email', 'inbox', 'log'].includes(channel ?? '')) || kind === 'reply';
      out.push({ path: p, kind, label: `${p} · ${what.trim()}`, testable });
      if (kind === 'wait') {
        walk(body.onEvent, `${p}.wait.onEvent`);
        walk(body.onTimeout, `${p}.wait.onTimeout`);
      }
      if (kind === 'branch') {
        walk(body.then, `${p}.branch.then`);
        walk(body.else, `${p}.branch.else`);
      }
      if (kind === 'split' && Array.isArray(body.variants))
        body.variants.forEach((v, j) => walk(isDoc(v) ? v.steps : undefined, `${p}.split.variants[${j}].steps`));
    });
  };
  if (isDoc(definition)) walk(definition.steps, 'steps');
  return out;
}

// ---- backtest ----

const sum = (counts: Record<string, number> | undefined): number => Object.values(counts ?? {}).reduce((n, v) => n + v, 0);

/** "email 3, inbox 1" (or "—"). */
export function countsText(counts: Record<string, number> | undefined): string {
  const entries = Object.entries(counts ?? {}).filter(([, n]) => n !== 0);
  return entries.length ? entries.map(([k, n]) => `${k} ${n}`).join(', ') : '—';
}

export interface ReachRow {
  step: string;
  label: string;
  kind: string;
  runs: number;
  customers: number;
  sent: number;
  suppressed: number;
  samples: string[];
}

/** Reach per step, entry first: the bars of the chart and the rows of the table. */
export function reachRows(report: BacktestReport): ReachRow[] {
  return [
    {
      step: 'entry',
      label: 'Entered',
      kind: 'entry',
      runs: report.entered.runs,
      customers: report.entered.customers,
      sent: 0,
      suppressed: 0,
      samples: report.entered.sampleCustomerIds,
    },
    ...report.steps.map((s) => ({
      step: s.step,
      label: s.label,
      kind: s.kind,
      runs: s.runs,
      customers: s.customers,
      sent: sum(s.sent),
      suppressed: sum(s.suppressed),
      samples: s.sampleCustomerIds,
    })),
  ];
}

/** Suppressions by reason over every step, the largest first. */
export function suppressionRows(report: BacktestReport): Array<{ reason: string; count: number }> {
  const totals: Record<string, number> = { ...report.messages.suppressed };
  if (Object.keys(totals).length === 0)
    for (const s of report.steps) for (const [r, n] of Object.entries(s.suppressed ?? {})) totals[r] = (totals[r] ?? 0) + n;
  return Object.entries(totals)
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** Every sample customer of a report, each once, in order of appearance. */
export function sampleCustomers(report: BacktestReport): string[] {
  return [...new Set([report.entered.sampleCustomerIds, ...report.steps.map((s) => s.sampleCustomerIds)].flat())];
}

// ---- impact ----

const round1 = (n: number) => Math.round(n * 10) / 10;
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Messages a day the candidate sends, as a person says it: about the average, rounded up to a whole message when above 0. */
export function aboutPerDay(day: MessagesPerDay): number {
  return day.average > 0 && day.average < 1 ? round1(day.average) : Math.round(day.average);
}

/**
 * The impact in one sentence, as the confirmation states it: "Enabling welcome will send about 4 messages a day
 * (busiest day 6, on 2026-03-02) to 12 customers over the last 7 days; policy limit 10 a day: within it."
 */
export function impactSentence(answer: TriggerImpact, action: 'enable' | 'save' = 'enable'): string {
  const { impact, policy } = answer;
  const verb = action === 'enable' ? `Enabling ${answer.triggerId}` : `Saving this version of ${answer.triggerId}`;
  if (answer.takesEffect === 'nothing changes') return `${verb} changes nothing: this version is already live.`;
  const day = impact.messagesPerDay.candidate;
  const days = Math.max(1, Math.round(impact.days));
  const busiest = day.peakDay ? ` (busiest day ${day.peak}, on ${day.peakDay})` : '';
  let sentence = `${verb} will send about ${plural(aboutPerDay(day), 'message')} a day${busiest} to ${plural(
    impact.messaged.candidate,
    'customer',
  )}, judging by the last ${plural(days, 'day')}`;
  if (impact.current) {
    const d = impact.messaged;
    sentence += `; compared with the live version ${impact.current.version}, ${d.starts.customers} start and ${d.stops.customers} stop getting messages`;
  }
  sentence += '.';
  if (policy)
    sentence += ` Policy limit: ${plural(policy.limit, 'message')} a day (busiest day over the last ${policy.period}: ${policy.estimate.peak}) — ${
      policy.exceeded ? 'over the limit, the engine will refuse it' : 'within the limit'
    }.`;
  else sentence += ' The workspace has no policy limit on daily messages.';
  if (answer.takesEffect === 'on enable') sentence += ' It takes effect when the trigger is enabled.';
  return sentence;
}

export interface ImpactStepRow {
  step: string;
  channel: string;
  current: number;
  candidate: number;
  difference: number;
  starts: CustomerChange;
  stops: CustomerChange;
}

/** Per step and channel: messages with each version, and who starts and stops getting the step. */
export function impactStepRows(impact: DryRunReport): ImpactStepRow[] {
  const rows: ImpactStepRow[] = [];
  for (const s of impact.steps) {
    const channels = Object.entries(s.messages);
    if (channels.length === 0) rows.push({ step: s.step, channel: '—', ...s.customers, starts: s.starts, stops: s.stops });
    for (const [channel, d] of channels) rows.push({ step: s.step, channel, ...d, starts: s.starts, stops: s.stops });
  }
  return rows;
}

/** Messages per UTC day, both versions, every day of either, in order. */
export function perDayRows(impact: DryRunReport): Array<{ day: string; current: number; candidate: number }> {
  const current = impact.messagesPerDay.current?.days ?? {};
  const candidate = impact.messagesPerDay.candidate.days;
  return [...new Set([...Object.keys(current), ...Object.keys(candidate)])]
    .sort()
    .map((day) => ({ day, current: current[day] ?? 0, candidate: candidate[day] ?? 0 }));
}

/** The words of a policy refusal (422): its message, and the figures when the body has them. */
export function policyRefusal(body: unknown): { message: string; policy?: PolicyVerdict } | undefined {
  if (!isDoc(body)) return undefined;
  const message = typeof body.message === 'string' ? body.message : undefined;
  if (!message) return undefined;
  return { message, ...(isDoc(body.policy) ? { policy: body.policy as unknown as PolicyVerdict } : {}) };
}

// ---- statistics ----

const fmtPct = (x: number | null | undefined) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

/** "+25.0% (95% CI −3.1% to +61.2%)", or "—" without a lift. */
export function liftText(lift: number | null, ci: Interval | null): string {
  if (lift === null) return '—';
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)}%`;
  return ci ? `${signed(lift)} (95% CI ${signed(ci.lower)} to ${signed(ci.upper)})` : signed(lift);
}

export interface VersionRow {
  version: number;
  mode: 'live' | 'shadow';
  runs: number;
  messages: number;
  suppressed: number;
  converted: number;
  conversionRate: string;
}

/** Per version, its live and (when it ran in shadow) shadow figures. */
export function versionRows(stats: TriggerVersionStats[]): VersionRow[] {
  const rows: VersionRow[] = [];
  for (const v of [...stats].sort((a, b) => b.version - a.version))
    for (const mode of ['live', 'shadow'] as const) {
      const m = v[mode];
      if (!m) continue;
      rows.push({
        version: v.version,
        mode,
        runs: m.runs,
        messages: sum(m.messages),
        suppressed: sum(m.suppressed),
        converted: m.converted,
        conversionRate: fmtPct(m.conversionRate),
      });
    }
  return rows;
}

export interface Totals {
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  failed: number;
  suppressed: Record<string, number>;
}

/** Sent, delivered, opened, clicked and suppressed by reason over every step of the versions given. */
export function totals(stats: TriggerVersionStats[]): Totals {
  const t: Totals = { sent: 0, delivered: 0, opened: 0, clicked: 0, failed: 0, suppressed: {} };
  for (const v of stats)
    for (const s of v.steps) {
      t.sent += s.sent;
      t.delivered += s.delivered;
      t.opened += s.opened;
      t.clicked += s.clicked;
      t.failed += s.failed;
      for (const [r, n] of Object.entries(s.suppressed)) t.suppressed[r] = (t.suppressed[r] ?? 0) + n;
    }
  return t;
}

export interface LiftRow {
  version: number;
  mode: 'live' | 'shadow';
  group: string;
  runs: number;
  converted: number;
  conversionRate: string;
  lift: string;
}

/** Treated (all variants, then each) vs holdout per version and mode, with lift and its interval. */
export function liftRows(stats: TriggerVersionStats[]): LiftRow[] {
  const rows: LiftRow[] = [];
  for (const v of [...stats].sort((a, b) => b.version - a.version))
    for (const mode of ['live', 'shadow'] as const) {
      const m = v.lift?.[mode];
      if (!m) continue;
      const row = (group: string, g: GroupConversion, l?: LiftFigures): LiftRow => ({
        version: v.version,
        mode,
        group,
        runs: g.runs,
        converted: g.converted,
        conversionRate: fmtPct(g.conversionRate),
        lift: l ? liftText(l.lift, l.liftCi95) : '—',
      });
      rows.push(row('holdout', m.holdout), row('treated (all variants)', m.treated, m.treated));
      for (const variant of m.variants) rows.push(row(`variant ${variant.variant}`, variant, variant));
    }
  return rows;
}
