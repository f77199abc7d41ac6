/**
 * A customer's forward timeline, pure: the timers pending on their stream (scheduled, neither fired nor cancelled:
 * trigger waits and entry watches, SLA and snooze timers, stage, segment and broadcast timers) and what the triggers
 * would decide if nothing else happened, simulated from the customer's history with no new input up to a horizon
 * (`CustomerSimulation`: the reactor's own decisions, timers firing at their due time). For a trigger's timer it names
 * what would cancel it: the awaited event of a `wait until`, the absent event of an entry watch, the exit rules.
 */
import { occurredTime } from '../event-time';
import { typed, type JourneyEvent, type TypedEvent } from '../events';
import { deterministicId } from '../ids';
import { CustomerSimulation, emptyCustomerView, applyToView, customerTimeZone, timerFired } from './customer';
import type { TriggerProgram } from './program';
import type { ReplyRenderer } from './run';
import { forEachStep, type Signal, type Step, type TriggerDefinition } from './schema';

export type UpcomingTimerKind = 'trigger-wait' | 'trigger-entry' | 'sla' | 'snooze' | 'segment' | 'broadcast' | 'stage' | 'other';

/** One pending timer, in words and structured. */
export interface UpcomingTimer {
  timerId: string;
  kind: UpcomingTimerKind;
  purpose: string;
  dueAt: string;
  /** The due time in the customer's time zone: `3 Mar 09:00 Europe/Berlin` (the year when not the current one). */
  dueLocal: string;
  triggerId?: string;
  triggerName?: string;
  version?: number;
  runId?: string;
  /** The step a trigger wait belongs to (its address, `1`, `2.then.0`). */
  step?: string;
  /** What would cancel it before it is due ("Activated", "a reply", "stage entered active"). */
  unless: string[];
  /** What it does when it fires, if nothing changes (from the simulation). */
  then: UpcomingDecision[];
  /** `Activation nudge (trigger activation-nudge v3) due 3 Mar 09:00 Europe/Berlin unless Activated: then email "..."`. */
  description: string;
  payload?: Record<string, unknown>;
}

export type UpcomingDecisionKind =
  'send' | 'suppressed' | 'task' | 'task-closed' | 'exit' | 'stage' | 'traits' | 'event' | 'reply' | 'handoff' | 'webhook';

/** Something the triggers would decide, and when. */
export interface UpcomingDecision {
  kind: UpcomingDecisionKind;
  at: string;
  atLocal: string;
  triggerId?: string;
  version?: number;
  step?: string;
  channel?: string;
  subject?: string;
  body?: string;
  reason?: string;
  title?: string;
  /** The pending timer whose firing leads to it. */
  timerId?: string;
  description: string;
}

export interface UpcomingTimeline {
  customerId: string;
  /** When the forecast starts, and its end. */
  now: string;
  horizon: string;
  timeZone: string;
  timers: UpcomingTimer[];
  /** Everything the triggers would decide up to the horizon with no new input, in time order. */
  decisions: UpcomingDecision[];
}

export interface UpcomingOptions {
  now: Date;
  /** How far to simulate (ms after now). */
  horizonMs: number;
  renderReply?: ReplyRenderer;
}

/** The timers scheduled on the stream and not fired or cancelled since, in due order (a shadow run's never: they change nothing). */
export function pendingTimers(events: readonly JourneyEvent[]): Array<TypedEvent<'TimerScheduled'>> {
  const pending = new Map<string, TypedEvent<'TimerScheduled'>>();
  for (const event of events) {
    const e = typed(event);
    if (e.type === 'TimerScheduled') {
      if (e.data.payload?.shadow !== true) pending.set(e.data.timerId, e);
    } else if (e.type === 'TimerFired' || e.type === 'TimerCancelled') pending.delete(e.data.timerId);
  }
  return [...pending.values()].sort((a, b) => Date.parse(a.data.dueAt) - Date.parse(b.data.dueAt));
}

/** `3 Mar 09:00 Europe/Berlin`; with the year when it is not `now`'s. */
export function localTimeLabel(ms: number, timeZone: string, now?: number): string {
  const parts = (at: number) =>
    Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      })
        .formatToParts(new Date(at))
        .map((p) => [p.type, p.value]),
    );
  const p = parts(ms);
  const year = now !== undefined && parts(now).year === p.year ? '' : ` ${p.year}`;
  return `${p.day} ${p.month}${year} ${p.hour}:${p.minute} ${timeZone}`;
}

/** The events a signal waits for, in words (`Activated`, `a reply`, `stage entered active`); `not` parts are left out. */
export function signalEvents(signal: Signal | undefined): string[] {
  if (!signal) return [];
  const out: string[] = [];
  const walk = (s: Signal) => {
    if ('event' in s) out.push(s.event);
    else if ('all' in s) s.all.forEach(walk);
    else if ('any' in s) s.any.forEach(walk);
    else if ('reply' in s) out.push('a reply');
    else if ('stage' in s) {
      if (s.stage.entered) out.push(`stage entered ${s.stage.entered}`);
      if (s.stage.left) out.push(`stage left ${s.stage.left}`);
    } else if ('trait' in s) out.push(`trait ${s.trait.name} changed`);
    else if ('segment' in s) {
      if (s.segment.entered) out.push(`entering segment ${s.segment.entered}`);
      if (s.segment.left) out.push(`leaving segment ${s.segment.left}`);
    } else if ('count' in s) out.push(s.count.event);
    else if ('sum' in s) out.push(s.sum.event);
  };
  walk(signal);
  return [...new Set(out)];
}

/** The step at an address (`1.onTimeout.0`) of a definition. */
function stepAt(definition: TriggerDefinition, address: string): Step | undefined {
  let found: Step | undefined;
  forEachStep(definition.steps, (step, path) => {
    const addr = path
      .replace(/^steps\[(\d+)\]/, '$1')
      .replace(/\.wait\.(onEvent|onTimeout)\[(\d+)\]/g, '.$1.$2')
      .replace(/\.branch\.(then|else)\[(\d+)\]/g, '.$1.$2')
      .replace(/\.split\.variants\[(\d+)\]\.steps\[(\d+)\]/g, '.variants.$1.$2');
    if (addr === address) found = step;
  });
  return found;
}

/** The temporal signal of an entry (absent, inactive, date), as the compiler finds it. */
function temporalOf(entry: Signal): Signal | undefined {
  if ('absent' in entry || 'inactive' in entry || 'date' in entry) return entry;
  if ('all' in entry) return entry.all.find((s) => 'absent' in s || 'inactive' in s || 'date' in s);
  return undefined;
}

/** What cancels a trigger's timer: the awaited events of its `wait until`, the watched ones of its entry, the exit rules'. */
function cancelledBy(definition: TriggerDefinition, kind: 'entry' | 'step', step?: string): string[] {
  const out: string[] = [];
  if (kind === 'entry') {
    const t = temporalOf(definition.entry);
    if (t && 'absent' in t) out.push(t.absent.event);
    if (t && 'inactive' in t) out.push('any activity (moves it on)');
    if (t && 'date' in t) out.push(t.date.trait !== undefined ? `trait ${t.date.trait} changed` : `${t.date.event} again`);
    return [...new Set(out)];
  }
  const s = step === undefined ? undefined : stepAt(definition, step);
  if (s && 'wait' in s && 'until' in s.wait) out.push(...signalEvents(s.wait.until));
  for (const x of definition.exit ?? []) out.push(...signalEvents(x.when));
  return [...new Set(out)];
}

const short = (s: string | undefined, max = 60) => (s === undefined ? '' : JSON.stringify(s.length > max ? `${s.slice(0, max - 1)}…` : s));

/**
 * The forward timeline of one customer: `events` is their whole stream (oldest first), `programs` the workspace's
 * triggers. The simulation folds the history as context, fires the pending trigger timers at their due time (and
 * the timers the decisions schedule meanwhile), and records what would be decided up to `now + horizon`.
 */
export function upcomingTimeline(
  programs: readonly TriggerProgram[],
  events: readonly JourneyEvent[],
  options: UpcomingOptions,
): UpcomingTimeline {
  const now = options.now.getTime();
  const end = now + options.horizonMs;
  const customerId = events[0]?.metadata.customerId ?? '';
  const view = emptyCustomerView();
  for (const e of events) applyToView(view, e);
  const timeZone = customerTimeZone(view);
  const label = (ms: number) => localTimeLabel(ms, timeZone, now);
  const byId = new Map(programs.map((p) => [p.id, p]));

  // the simulation: history as context, then the pending trigger timers firing, with no new input
  const pending = pendingTimers(events);
  const origin = new Map<string, string>(); // decided event id or timer id -> the pending timer it follows from
  const decided: Array<{ event: JourneyEvent; timerId?: string }> = [];
  const cancelled = new Set<string>();
  const sim = new CustomerSimulation(
    programs,
    (input, effects) => {
      const e = typed(input);
      const from = e.type === 'TimerFired' ? origin.get(e.data.timerId) : origin.get(input.id);
      for (const effect of effects) {
        const x = typed(effect);
        if (from) origin.set(effect.id, from);
        if (x.type === 'TimerScheduled' && from) origin.set(x.data.timerId, from);
        if (x.type === 'TimerCancelled') cancelled.add(x.data.timerId);
        decided.push({ event: effect, timerId: from });
      }
    },
    deterministicId,
    { renderReply: options.renderReply, keepHistory: true },
  );
  for (const e of events) sim.prior(e);
  for (const t of pending) {
    if (!t.data.purpose.startsWith('trigger:')) continue;
    origin.set(t.data.timerId, t.data.timerId);
    const due = Math.max(Date.parse(t.data.dueAt), now);
    if (due > end) continue;
    sim.fireDue(due);
    if (cancelled.has(t.data.timerId)) continue;
    sim.input(timerFired(t, due), due);
  }
  sim.fireDue(end + 1);

  const decisions = decided.flatMap(({ event, timerId }) => {
    const d = decision(event, label);
    return d ? [{ ...d, ...(timerId ? { timerId } : {}) }] : [];
  });
  decisions.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  const timers = pending.map((t): UpcomingTimer => {
    const dueMs = Date.parse(t.data.dueAt);
    const base = { timerId: t.data.timerId, purpose: t.data.purpose, dueAt: t.data.dueAt, dueLocal: label(dueMs) };
    const payload = t.data.payload ?? {};
    const then = decisions.filter((d) => d.timerId === t.data.timerId);
    const thenText = then.length ? `: then ${then.map((d) => d.description).join('; ')}` : '';
    const due = `due ${base.dueLocal}${dueMs < now ? ' (overdue)' : ''}`;
    if (t.data.purpose.startsWith('trigger:')) {
      const triggerId = t.data.purpose.slice('trigger:'.length);
      const program = byId.get(triggerId);
      const kind = payload.kind === 'entry' ? 'entry' : 'step';
      const runId = kind === 'step' ? String(payload.runId) : undefined;
      const run = program ? view.runs.get(triggerId)?.active : undefined;
      const version = kind === 'entry' ? Number(payload.version) : run?.runId === runId ? run?.version : undefined;
      const compiled = program && version !== undefined ? program.version(version) : program?.latest;
      const definition = compiled?.definition;
      const step = kind === 'step' ? String(payload.step) : undefined;
      const unless = definition ? cancelledBy(definition, kind, step) : [];
      const name = definition?.name ?? triggerId;
      const what = kind === 'entry' ? '' : ` ${stepWords(definition, step)}`;
      return {
        ...base,
        kind: kind === 'entry' ? 'trigger-entry' : 'trigger-wait',
        triggerId,
        triggerName: name,
        ...(version !== undefined ? { version } : {}),
        ...(runId ? { runId } : {}),
        ...(step !== undefined ? { step } : {}),
        unless,
        then,
        description: `${name} (trigger ${triggerId}${version !== undefined ? ` v${version}` : ''})${what} ${due}${unless.length ? ` unless ${unless.join(' or ')}` : ''}${program?.enabled === false ? ' (trigger disabled: it will not act)' : ''}${thenText}`,
        payload,
      };
    }
    const [kind, words] = otherTimer(t.data.purpose, payload);
    return { ...base, kind, unless: [], then, description: `${words} ${due}`, payload };
  });

  return { customerId, now: new Date(now).toISOString(), horizon: new Date(end).toISOString(), timeZone, timers, decisions };
}

function stepWords(definition: TriggerDefinition | undefined, step: string | undefined): string {
  const s = definition && step !== undefined ? stepAt(definition, step) : undefined;
  if (s && 'wait' in s)
    return 'until' in s.wait
      ? `waits for ${signalEvents(s.wait.until).join(' or ') || 'a condition'} (step ${step})`
      : `waits ${s.wait.duration} (step ${step})`;
  return `step ${step}`;
}

function otherTimer(purpose: string, payload: Record<string, unknown>): [UpcomingTimerKind, string] {
  if (purpose === 'sla')
    return [
      'sla',
      `SLA ${String(payload.target ?? '')} of ${String(payload.subject ?? 'conversation')} ${String(payload.id ?? '')}${payload.team ? ` (team ${String(payload.team)})` : ''}`,
    ];
  if (purpose === 'snooze') return ['snooze', `snoozed conversation ${String(payload.conversationId ?? '')} reopens`];
  if (purpose.startsWith('segment:')) return ['segment', `segment ${purpose.slice('segment:'.length)} membership is re-evaluated`];
  if (purpose.startsWith('broadcast:')) return ['broadcast', `broadcast ${purpose.slice('broadcast:'.length)} goes out`];
  if (purpose === 'stage:inactivity') return ['stage', 'inactivity check of the stage model'];
  if (purpose === 'stage:renewal') return ['stage', 'renewal window of the stage model'];
  if (purpose.startsWith('stage:')) return ['stage', `stage timer ${purpose.slice('stage:'.length)}`];
  return ['other', `timer ${purpose}`];
}

/** A decided event as an upcoming decision (undefined for bookkeeping: matches, steps, timers). */
function decision(event: JourneyEvent, label: (ms: number) => string): Omit<UpcomingDecision, 'timerId'> | undefined {
  const e = typed(event);
  const at = occurredTime(e);
  const base = (ms: number) => ({ at: new Date(ms).toISOString(), atLocal: label(ms) });
  switch (e.type) {
    case 'MessageScheduled': {
      const when = e.data.notBefore ? Date.parse(e.data.notBefore) : at;
      const origin = { triggerId: e.data.triggerId, version: e.data.triggerVersion, step: e.data.step, channel: e.data.channel };
      if (e.data.request)
        return {
          kind: 'webhook',
          ...base(when),
          ...origin,
          description: `${e.data.request.method} ${e.data.request.url} (${e.data.triggerId}) at ${label(when)}`,
        };
      const { subject, body } = e.data.template;
      return {
        kind: 'send',
        ...base(when),
        ...origin,
        ...(subject !== undefined ? { subject } : {}),
        body,
        description: `${e.data.channel} ${short(subject ?? body)} (${e.data.triggerId}) at ${label(when)}`,
      };
    }
    case 'MessageSuppressed':
      return {
        kind: 'suppressed',
        ...base(at),
        triggerId: e.data.triggerId,
        version: e.data.triggerVersion,
        step: e.data.step,
        channel: e.data.channel,
        reason: e.data.reason,
        description: `${e.data.channel} message of ${e.data.triggerId} suppressed (${e.data.reason}) at ${label(at)}`,
      };
    case 'CsmTaskOpened':
      return {
        kind: 'task',
        ...base(at),
        triggerId: e.data.triggerId,
        version: e.data.triggerVersion,
        title: e.data.title,
        description: `task ${short(e.data.title)} (${e.data.priority}${e.data.owner ? `, ${e.data.owner}` : ''}) at ${label(at)}`,
      };
    case 'CsmTaskClosed':
      return {
        kind: 'task-closed',
        ...base(at),
        reason: e.data.resolution,
        description: `task closed (${e.data.resolution}) at ${label(at)}`,
      };
    case 'TriggerRunExited':
      return {
        kind: 'exit',
        ...base(at),
        triggerId: e.data.triggerId,
        version: e.data.version,
        reason: e.data.reason,
        description: `${e.data.triggerId} ends (${e.data.reason}) at ${label(at)}`,
      };
    case 'StageChanged':
      return {
        kind: 'stage',
        ...base(at),
        reason: e.data.reason,
        description: `stage ${e.data.from ?? 'none'} -> ${e.data.to} at ${label(at)}`,
      };
    case 'TraitsUpdated':
      return { kind: 'traits', ...base(at), description: `traits set ${JSON.stringify(e.data.traits)} at ${label(at)}` };
    case 'InteractionRecorded':
      return { kind: 'event', ...base(at), description: `event ${e.data.event} emitted at ${label(at)}` };
    case 'AgentReplied':
      return {
        kind: 'reply',
        ...base(at),
        triggerId: e.data.triggerId,
        body: e.data.body,
        description: `automated reply ${short(e.data.body)} at ${label(at)}`,
      };
    case 'ConversationAssigned':
      return {
        kind: 'handoff',
        ...base(at),
        triggerId: e.data.triggerId,
        description: `conversation handed to ${e.data.team ?? e.data.assignee} (${e.data.priority}) at ${label(at)}`,
      };
    default:
      return undefined;
  }
}
