/**
 * Why a customer did not get a trigger's message, pure: `whyNot` folds the customer's stream up to a moment and answers
 * with the FIRST thing that kept them out, in words, with the events it looked at, in the order the run decider checks
 * them: what the log says happened to the customer's latest run of that version (sent, deferred by quiet hours,
 * suppressed by a guard, held out by a split, exited, still waiting), else the trigger evaluated for them as the run
 * decider would have on their latest event the entry starts on (enabled, a run already active, the event's age, the
 * re-entry rule, the entry condition explained leaf by leaf, then the run's path: branches, the split's bucket, waits,
 * and at the send the guards of `checkGuards`: consent, frequency caps with the messages they counted, priority, quiet
 * hours). `explainSignal` is the explaining evaluator over the Signal JSON: each leaf's verdict is the compiled
 * predicate's (conditions.ts), the words and events are added beside it.
 */
import { createHash } from 'node:crypto';
import { typed, type JourneyEvent, type Traits } from '../events';
import { occurredTime } from '../event-time';
import {
  compileEventRecordMatch,
  compileFilter,
  compileFilters,
  compileReplyMatch,
  compileSignal,
  getter,
  type ActivityRecord,
  type EvalContext,
} from './conditions';
import { customerTimeZone } from './customer';
import { checkGuards, type GuardOutcome, type QuietHours } from './guards';
import { emptyCustomerAsOf, eventRef, foldAsOf, isTestMessageId, recordOf, type CustomerAsOf, type EventRef } from './preview';
import { END, type CompiledTrigger } from './program';
import { initialRunState, type RunState } from './run';
import type { FilterOps, PropertyFilters, Scalar, Signal, WindowAggregate } from './schema';
import { isoTime, parseDuration } from './time';

/** A verdict on one condition, in words, with the events it looked at and (for `all`/`any`/`not`) its parts. */
export interface Explained {
  ok: boolean;
  text: string;
  events?: EventRef[];
  children?: Explained[];
}

/** What why-not needs beyond EvalContext: who set each trait (for "unsubscribed at ..."). */
export interface ExplainExtras {
  traitSetBy?: ReadonlyMap<string, EventRef>;
}

/** Events listed per verdict at most (the latest ones). */
const EVENTS_LISTED = 20;

const fmt = (v: unknown): string => (v === undefined ? 'not set' : JSON.stringify(v));

function fmtFilter(f: Scalar | FilterOps): string {
  if (f === null || typeof f !== 'object') return `= ${fmt(f)}`;
  const words: Record<string, string> = {
    equals: '=',
    notEquals: '≠',
    in: 'in',
    notIn: 'not in',
    gt: '>',
    gte: '≥',
    lt: '<',
    lte: '≤',
    before: 'before',
    after: 'after',
    exists: 'exists:',
    contains: 'contains',
  };
  return Object.entries(f)
    .filter(([, v]) => v !== undefined)
    .map(([op, v]) => `${words[op] ?? op} ${fmt(v)}`)
    .join(' and ');
}

/** The first filter of `filters` that `obj` fails, in words (`plan was "free", needs = "pro"`), or undefined. */
export function failingFilter(filters: PropertyFilters, obj: Record<string, unknown>, now: number, what: string): string | undefined {
  for (const [path, f] of Object.entries(filters)) {
    const value = getter(path)(obj);
    if (!compileFilter(f)(value, now)) return `${what} ${path} was ${fmt(value)}, needs ${fmtFilter(f)}`;
  }
  return undefined;
}

function comparison(agg: { lt?: number; lte?: number; gt?: number; gte?: number; eq?: number }): string {
  const parts: string[] = [];
  if (agg.lt !== undefined) parts.push(`< ${agg.lt}`);
  if (agg.lte !== undefined) parts.push(`≤ ${agg.lte}`);
  if (agg.gt !== undefined) parts.push(`> ${agg.gt}`);
  if (agg.gte !== undefined) parts.push(`≥ ${agg.gte}`);
  if (agg.eq !== undefined) parts.push(`= ${agg.eq}`);
  return parts.join(' and ');
}

const refs = (records: readonly ActivityRecord[]) => records.slice(-EVENTS_LISTED).map(eventRef);
const current = (ctx: EvalContext) => (ctx.event ? [eventRef(ctx.event)] : []);
const eventWords = (ctx: EvalContext) => (ctx.event ? `the event was ${ctx.event.name}` : 'no event (a timer fired)');
const whereWords = (where?: PropertyFilters) => (where ? ` where ${JSON.stringify(where)}` : '');

/** The compiled predicate of a leaf, when the compiler knows it (signals other helpers compile may be missing here). */
function compiled(signal: Signal): ((ctx: EvalContext) => boolean) | undefined {
  try {
    return compileSignal(signal);
  } catch {
    return undefined;
  }
}

/** Explains a non-temporal signal for one decision context. */
export function explainSignal(signal: Signal, ctx: EvalContext, extras: ExplainExtras = {}): Explained {
  if ('all' in signal) {
    const children: Explained[] = [];
    for (const s of signal.all) {
      const c = explainSignal(s, ctx, extras);
      children.push(c);
      if (!c.ok) return { ok: false, text: c.text, events: c.events, children };
    }
    return { ok: true, text: children.map((c) => c.text).join('; '), children };
  }
  if ('any' in signal) {
    const children = signal.any.map((s) => explainSignal(s, ctx, extras));
    const hit = children.find((c) => c.ok);
    if (hit) return { ok: true, text: hit.text, events: hit.events, children };
    return {
      ok: false,
      text: `none of: ${children.map((c) => c.text).join('; ')}`,
      events: children.flatMap((c) => c.events ?? []),
      children,
    };
  }
  if ('not' in signal) {
    const inner = explainSignal(signal.not, ctx, extras);
    return {
      ok: !inner.ok,
      text: inner.ok ? `not (${inner.text}) failed: it held` : `not (${inner.text})`,
      events: inner.events,
      children: [inner],
    };
  }
  const ok = compiled(signal)?.(ctx);
  if ('event' in signal) {
    const e = ctx.event;
    if (!e || e.name !== signal.event) return { ok: false, text: `${eventWords(ctx)}, needs ${signal.event}`, events: current(ctx) };
    const miss = signal.where ? failingFilter(signal.where, e.props, ctx.now, `${signal.event}'s property`) : undefined;
    return { ok: ok ?? !miss, text: miss ?? `the event was ${signal.event}`, events: current(ctx) };
  }
  if ('count' in signal || 'sum' in signal) {
    const agg: WindowAggregate & { property?: string } = 'count' in signal ? signal.count : signal.sum;
    const match = compileEventRecordMatch(agg);
    const from = ctx.now - parseDuration(agg.within)!.ms;
    const records = ctx.history.filter((r) => r.at > from && r.at <= ctx.now && match(r, ctx.now));
    const get = agg.property ? getter(agg.property) : undefined;
    const n = get ? records.reduce((s, r) => s + (Number(get(r.props)) || 0), 0) : records.length;
    const what = get ? `sum of ${agg.property} of ${agg.event}` : `count of ${agg.event}`;
    return {
      ok: ok!,
      text: `${what}${whereWords(agg.where)} within ${agg.within} was ${n}, needs ${comparison(agg)}`,
      events: refs(records),
    };
  }
  if ('usageDrop' in signal) {
    const { event, window, baseline, below } = signal.usageDrop;
    const windowMs = parseDuration(window)!.ms;
    const baselineMs = parseDuration(baseline)!.ms;
    const windowStart = ctx.now - windowMs;
    const recent: ActivityRecord[] = [];
    let base = 0;
    for (const r of ctx.history) {
      if (event === undefined ? !r.activity : r.name !== event) continue;
      if (r.at > windowStart && r.at <= ctx.now) recent.push(r);
      else if (r.at > windowStart - baselineMs && r.at <= windowStart) base++;
    }
    const expected = below * base * (windowMs / baselineMs);
    return {
      ok: ok!,
      text: `${event ?? 'activity'} in the last ${window} was ${recent.length}, ${base} in the ${baseline} before: needs fewer than ${+expected.toFixed(2)} (${below} × the baseline's rate)${base === 0 ? ', and a baseline above 0' : ''}`,
      events: refs(recent),
    };
  }
  if ('stage' in signal) {
    const { entered, left } = signal.stage;
    const needs = [entered && `entered ${entered}`, left && `left ${left}`].filter(Boolean).join(' and ') || 'a stage change';
    const e = ctx.event;
    const got = e?.type === 'StageChanged' ? `the stage changed from ${fmt(e.props.from)} to ${fmt(e.props.to)}` : eventWords(ctx);
    return { ok: ok!, text: `${got}, needs ${needs}`, events: current(ctx) };
  }
  if ('inStage' in signal) {
    const stages = Array.isArray(signal.inStage) ? signal.inStage : [signal.inStage];
    return { ok: ok!, text: `the stage was ${ctx.stage ?? 'none'}, needs ${stages.join(' or ')}`, events: current(ctx) };
  }
  if ('trait' in signal) {
    const { name, to } = signal.trait;
    const e = ctx.event;
    const changed =
      e && (e.type === 'TraitsUpdated' || e.type === 'CustomerIdentified') ? (e.props.traits as Traits | undefined) : undefined;
    const text =
      !changed || !(name in changed)
        ? `${eventWords(ctx)}, which did not set trait ${name}`
        : `trait ${name} changed from ${fmt(ctx.previousTraits[name])} to ${fmt(changed[name])}${to === undefined ? '' : `, needs ${fmtFilter(to)}`}`;
    return { ok: ok!, text, events: current(ctx) };
  }
  if ('traits' in signal) {
    const miss = failingFilter(signal.traits, ctx.traits, ctx.now, 'trait');
    const set = Object.keys(signal.traits)
      .map((t) => extras.traitSetBy?.get(t))
      .filter((r): r is EventRef => r !== undefined);
    return { ok: ok ?? !miss, text: miss ?? `traits match ${JSON.stringify(signal.traits)}`, events: set };
  }
  if ('reply' in signal) {
    const e = ctx.event;
    const matched = e !== undefined && compileReplyMatch(signal.reply)(e);
    const text =
      e?.type !== 'CustomerReplied'
        ? `${eventWords(ctx)}, needs a reply`
        : matched
          ? 'the reply matched'
          : `the reply (on ${fmt(e.props.channel)}, sentiment ${fmt(e.props.sentiment)}) did not match ${JSON.stringify(signal.reply)}`;
    return { ok: ok ?? matched, text, events: current(ctx) };
  }
  if ('segment' in signal) {
    const { entered, left } = signal.segment;
    const e = ctx.event;
    const id = e?.props.segmentId;
    const hit =
      e !== undefined &&
      ((entered !== undefined && e.type === 'SegmentEntered' && id === entered) ||
        (left !== undefined && e.type === 'SegmentLeft' && id === left));
    const needs = entered !== undefined ? `entering segment ${entered}` : `leaving segment ${left}`;
    const got = e?.type === 'SegmentEntered' || e?.type === 'SegmentLeft' ? `the event was ${e.type} ${fmt(id)}` : eventWords(ctx);
    return { ok: ok ?? hit, text: `${got}, needs ${needs}`, events: current(ctx) };
  }
  if ('inSegment' in signal) {
    const ids = Array.isArray(signal.inSegment) ? signal.inSegment : [signal.inSegment];
    const inOne = ids.find((id) => ctx.segments?.has(id));
    const member = [...(ctx.segments ?? [])];
    return {
      ok: ok ?? inOne !== undefined,
      text:
        inOne !== undefined
          ? `the customer is in segment ${inOne}`
          : `the customer is not in segment ${ids.join(' or ')} (in: ${member.length ? member.join(', ') : 'none'})`,
    };
  }
  if ('account' in signal) {
    const accounts = Object.entries(ctx.accountTraits ?? {});
    const match = compileFilters(signal.account);
    const hit = accounts.find(([, traits]) => match(traits, ctx.now));
    const misses = accounts.map(([id, traits]) => `${id}: ${failingFilter(signal.account, traits, ctx.now, 'trait')}`);
    return {
      ok: ok ?? hit !== undefined,
      text: hit
        ? `account ${hit[0]} matches ${JSON.stringify(signal.account)}`
        : accounts.length === 0
          ? 'the customer is linked to no account'
          : `no linked account matches (${misses.join('; ')})`,
    };
  }
  return { ok: ok ?? false, text: `${Object.keys(signal)[0]}: not evaluated here` };
}

/** A message as a why-not answer lists it (those a frequency cap counted). */
export interface MessageRef {
  messageId: string;
  channel: string;
  triggerId?: string;
  at: string;
}

export type WhyNotCode =
  | 'sent'
  | 'quiet-hours'
  | 'not-defined'
  | 'trigger-disabled'
  | 'entry-not-met'
  | 'not-due-yet'
  | 'event-too-old'
  | 'reentry'
  | 'run-active'
  | 'run-exited'
  | 'waiting'
  | 'consent'
  | 'frequency-cap'
  | 'priority'
  | 'holdout'
  | 'suppressed'
  | 'delivery-failed'
  | 'would-send';

/** One check made, in order. */
export interface WhyNotCheck {
  check: string;
  passed: boolean;
  text: string;
  events?: EventRef[];
}

export interface WhyNotAnswer {
  customerId: string;
  triggerId: string;
  version: number;
  asOf: string;
  /** Whether the customer got the message (by `asOf`). */
  got: boolean;
  /** `sent` when they got it; else the first thing that kept them out (or `would-send`: nothing did, yet no run is in the log). */
  code: WhyNotCode;
  reason: string;
  /** The events the reason looked at. */
  events: EventRef[];
  /** For a frequency cap: the messages it counted. */
  messages?: MessageRef[];
  /** The message they got (or that waits out quiet hours). */
  message?: { messageId: string; channel: string; step?: string; scheduledAt: string; notBefore?: string; status: string };
  /** The event the evaluation decided on (the latest one the entry starts on), when it came to that. */
  decidedOn?: EventRef;
  /** A split's holdout: the customer's stable bucket (0..100) and the holdout percent. */
  bucket?: { value: number; holdout: number; step: string };
  deferredTo?: string;
  checks: WhyNotCheck[];
}

export interface WhyNotInput {
  workspaceId: string;
  customerId: string;
  /** The version evaluated (its definition compiled). */
  trigger: CompiledTrigger;
  /** When that version was defined (ms), when known. */
  definedAt?: number;
  /** Whether the trigger was enabled at a moment (ms), from its stream (enable/disable events by their time). */
  enabledAt: (at: number) => boolean;
  /** The customer's stream, in log order (events after `asOf` are left out here). */
  events: readonly JourneyEvent[];
  asOf: number;
  /** Other triggers' priorities (for which trigger outranked this one on the same event). */
  priorities?: ReadonlyMap<string, number>;
  /** The workspace's default quiet hours (its settings), as the reactor applies them to a trigger without its own. */
  workspaceQuietHours?: QuietHours;
}

/** The customer's stable split bucket for a trigger, 0..100 (the run decider's `pickVariant` uses the same). */
export function splitBucket(triggerId: string, customerId: string): number {
  return (createHash('sha1').update(`${triggerId}\u001f${customerId}`).digest().readUInt32BE(0) % 10_000) / 100;
}

interface MessageFact {
  messageId: string;
  channel: string;
  step?: string;
  at: number;
  notBefore?: string;
  status: string;
  suppressed?: { reason: string; detail: string; events: EventRef[]; messages?: MessageRef[] };
}

interface RunFact {
  /** Where its TriggerMatched is in the stream. */
  index: number;
  runId: string;
  version: number;
  matchedAt: number;
  cause?: string;
  step?: string;
  holdout?: string;
  exit?: { reason: string; at: number };
  messages: MessageFact[];
}

const CAP_GUARD = /^frequency-cap (\d+) per (\S+) \((customer|channel|trigger)/;

/** The messages a cap counted at `now` (as `checkGuards` counts them). */
function counted(
  messages: CustomerAsOf['view']['messages'],
  cap: { max: number; perMs: number; scope: 'customer' | 'channel' | 'trigger' },
  channel: string,
  triggerId: string,
  now: number,
): MessageRef[] {
  return messages
    .filter(
      (m) =>
        m.at > now - cap.perMs &&
        (cap.scope === 'customer' || (cap.scope === 'channel' ? m.channel === channel : m.triggerId === triggerId)),
    )
    .map((m) => ({ messageId: m.messageId, channel: m.channel, ...(m.triggerId ? { triggerId: m.triggerId } : {}), at: isoTime(m.at) }));
}

/** The event that set the consent trait a guard named (`unsubscribed at ...`). */
function consentEvents(detail: string, traitSetBy: ReadonlyMap<string, EventRef>): EventRef[] {
  const trait = detail.includes('from channel')
    ? 'unsubscribedChannels'
    : detail.includes('from topic')
      ? 'unsubscribedTopics'
      : 'unsubscribed';
  const by = traitSetBy.get(trait);
  return by ? [by] : [];
}

/** The suppression of a guard, in the answer's words, with what it looked at. */
function guardReason(
  outcome: GuardOutcome,
  customer: CustomerAsOf,
  t: CompiledTrigger,
  channel: string,
  now: number,
): { code: WhyNotCode; reason: string; events: EventRef[]; messages?: MessageRef[] } {
  const { reason, detail } = outcome.suppressed!;
  const guard = outcome.guards[outcome.guards.length - 1];
  if (reason === 'consent') {
    const events = consentEvents(detail, customer.traitSetBy);
    return { code: 'consent', reason: `consent: ${detail}${events[0] ? ` (at ${events[0].at}, event ${events[0].id})` : ''}`, events };
  }
  if (reason === 'frequency-cap') {
    const m = CAP_GUARD.exec(guard.guard);
    const cap = m ? { max: Number(m[1]), perMs: parseDuration(m[2])!.ms, scope: m[3] as 'customer' } : undefined;
    const messages = cap ? counted(customer.view.messages, cap, channel, t.id, now) : [];
    return {
      code: 'frequency-cap',
      reason: `frequency cap: ${detail}: ${messages.length} already sent in that window (${messages.map((x) => x.messageId).join(', ')})`,
      events: [],
      messages,
    };
  }
  return { code: reason === 'priority' ? 'priority' : 'suppressed', reason: `${reason}: ${detail}`, events: [] };
}

/** The entry's anchor: the event an entry starts on (its `event`, stage change, trait change, reply or segment leaf). */
function anchorOf(signal: Signal): ((r: ActivityRecord) => boolean) | undefined {
  if ('event' in signal) return (r) => r.name === signal.event;
  if ('stage' in signal) return (r) => r.type === 'StageChanged';
  if ('trait' in signal)
    return (r) =>
      (r.type === 'TraitsUpdated' || r.type === 'CustomerIdentified') && signal.trait.name in ((r.props.traits as Traits) ?? {});
  if ('reply' in signal) return (r) => r.type === 'CustomerReplied';
  if ('segment' in signal) return (r) => r.type === 'SegmentEntered' || r.type === 'SegmentLeft';
  if ('all' in signal) {
    for (const s of signal.all) {
      const a = anchorOf(s);
      if (a) return a;
    }
    return undefined;
  }
  if ('any' in signal) {
    const parts = signal.any.map(anchorOf);
    return parts.every((p) => p !== undefined) ? (r) => parts.some((p) => p!(r)) : undefined;
  }
  return undefined;
}

/** What an anchor waits for, in words. */
function anchorWords(signal: Signal): string {
  if ('event' in signal) return `a ${signal.event} event`;
  if ('stage' in signal) return 'a stage change';
  if ('trait' in signal) return `a change of trait ${signal.trait.name}`;
  if ('reply' in signal) return 'a reply';
  if ('segment' in signal) return 'a segment entry or exit';
  if ('all' in signal) return anchorWords(signal.all.find((s) => anchorOf(s)) ?? signal);
  if ('any' in signal) return signal.any.map(anchorWords).join(' or ');
  return 'an event';
}

interface Hypothesis {
  code: WhyNotCode;
  reason: string;
  events: EventRef[];
  messages?: MessageRef[];
  bucket?: WhyNotAnswer['bucket'];
  deferredTo?: string;
}

/** Answers why the customer did not get the trigger's message by `asOf` (or that they did). */
export function whyNot(input: WhyNotInput): WhyNotAnswer {
  const { trigger: t, asOf, customerId } = input;
  const checks: WhyNotCheck[] = [];
  /** The checks of the decision evaluated again (reported when the log has no run to answer with). */
  const evaluated: WhyNotCheck[] = [];
  const events = input.events.filter((e) => recordOf(e).at <= asOf);
  const records = events.map((e) => recordOf(e).record);
  const temporal = t.entry.temporal;
  const anchor = temporal ? undefined : anchorOf(t.definition.entry);
  let candidate = -1;
  if (!temporal)
    for (let i = records.length - 1; i >= 0; i--) {
      const r = records[i];
      if (r && (!anchor || anchor(r))) {
        candidate = i;
        break;
      }
    }

  const customer = emptyCustomerAsOf(events, asOf);
  const runs: RunFact[] = [];
  const runsById = new Map<string, RunFact>();
  const messageRuns = new Map<string, RunFact>();
  /** Messages to the customer by the event that caused them (for priority), with their trigger: decided after their cause. */
  const claims = new Map<string, string[]>();
  for (const event of events) {
    const e = typed(event);
    if (e.type === 'MessageScheduled' && !e.data.test && !e.data.request && e.data.causingEventId && e.data.triggerId)
      claims.set(e.data.causingEventId, [...(claims.get(e.data.causingEventId) ?? []), e.data.triggerId]);
  }
  let hypothesis: Hypothesis | undefined;
  let decidedOn: EventRef | undefined;
  for (let i = 0; i < events.length; i++) {
    const event = events[i];
    const e = typed(event);
    if (e.type === 'TriggerMatched' && e.data.triggerId === t.id) {
      const fact: RunFact = {
        index: i,
        runId: e.data.runId,
        version: e.data.version,
        matchedAt: occurredTime(e),
        cause: e.data.causingEventId,
        messages: [],
      };
      runs.push(fact);
      runsById.set(fact.runId, fact);
    }
    const runId = (e.data as { runId?: unknown }).runId;
    const run = typeof runId === 'string' ? runsById.get(runId) : undefined;
    if (e.type === 'TriggerRunStepEntered' && run && e.data.triggerId === t.id) {
      run.step = e.data.step;
      if (e.data.variant === 'holdout') run.holdout = e.data.step;
    }
    if (e.type === 'TriggerRunExited' && run && e.data.triggerId === t.id) run.exit = { reason: e.data.reason, at: occurredTime(e) };
    if (e.type === 'MessageScheduled' && !e.data.test && !isTestMessageId(e.data.messageId)) {
      if (run && e.data.triggerId === t.id) {
        const m: MessageFact = {
          messageId: e.data.messageId,
          channel: e.data.channel,
          step: e.data.step,
          at: occurredTime(e),
          ...(e.data.notBefore ? { notBefore: e.data.notBefore } : {}),
          status: 'scheduled',
        };
        run.messages.push(m);
        messageRuns.set(m.messageId, run);
      }
    }
    if (e.type === 'MessageSuppressed') {
      const owner = messageRuns.get(e.data.messageId) ?? (e.data.triggerId === t.id ? run : undefined);
      if (owner) {
        const fact = owner.messages.find((m) => m.messageId === e.data.messageId);
        const at = occurredTime(e);
        const suppressed = suppressionFact(e.data, customer, t, at);
        if (fact) Object.assign(fact, { status: 'suppressed', suppressed });
        else
          owner.messages.push({
            messageId: e.data.messageId,
            channel: e.data.channel,
            step: e.data.step,
            at,
            status: 'suppressed',
            suppressed,
          });
        messageRuns.set(e.data.messageId, owner);
      }
    }
    if ((e.type === 'MessageSent' || e.type === 'MessageDelivered' || e.type === 'MessageFailed') && messageRuns.has(e.data.messageId)) {
      const fact = messageRuns.get(e.data.messageId)!.messages.find((m) => m.messageId === e.data.messageId);
      if (fact && fact.status !== 'suppressed')
        fact.status = { MessageSent: 'sent', MessageDelivered: 'delivered', MessageFailed: 'failed' }[e.type];
    }
    if (i !== candidate) {
      foldAsOf(customer, event, records[i] ?? undefined);
      continue;
    }
    // the decision the run decider made on this event, evaluated again (as decideOnView builds its context)
    const before = customer.view.runs.get(t.id) ?? initialRunState(t.id);
    const previousTraits = customer.view.traits;
    const record = records[i]!;
    foldAsOf(customer, event, record);
    decidedOn = eventRef(record);
    const now = Math.max(Date.parse(event.metadata.recordedAt) || record.at, record.at);
    hypothesis = decideAgain(input, customer, before, contextOf(customer, record, previousTraits, now), evaluated, claims.get(event.id));
  }
  const base = { customerId, triggerId: t.id, version: t.version, asOf: isoTime(asOf) };

  // 1. what the log says of the latest run of this version
  const latest = runs.filter((r) => r.version === t.version).at(-1);
  // a later event the entry starts on that started no run (a trigger that may run again): why not this time
  const later = latest && hypothesis && candidate > latest.index && t.reentry.kind !== 'once' && hypothesis.code !== 'would-send';
  if (latest && !later) {
    const cause = latest.cause === undefined ? -1 : events.findIndex((e) => e.id === latest.cause);
    const answer = fromRun(latest, t, customerId, asOf, cause >= 0 ? records[cause] : undefined);
    checks.unshift({ check: 'run', passed: answer.got, text: answer.reason, events: answer.events });
    return { ...base, ...answer, checks };
  }
  if (runs.length > 0)
    checks.push({
      check: 'runs',
      passed: true,
      text: `the customer's runs are of version ${[...new Set(runs.map((r) => r.version))].join(', ')}, not ${t.version}: version ${t.version} evaluated`,
    });

  // 2. the trigger evaluated for them
  if (latest) {
    const earlier = fromRun(latest, t, customerId, asOf, undefined);
    checks.push({ check: 'earlier run', passed: earlier.got, text: earlier.reason });
  }
  checks.push(...evaluated);
  const result = evaluate(input, customer, candidate < 0, hypothesis, checks);
  return { ...base, got: false, ...result, ...(decidedOn ? { decidedOn } : {}), checks };
}

/** The context the run decider built for an event (see `decideOnView`). */
function contextOf(customer: CustomerAsOf, record: ActivityRecord | undefined, previousTraits: Traits, now: number): EvalContext {
  const { view } = customer;
  return {
    now,
    event: record,
    traits: view.traits,
    previousTraits,
    stage: view.stage,
    history: view.history,
    timeZone: customerTimeZone(view),
    segments: new Set(customer.segments),
    accountTraits: { ...customer.accountTraits },
  };
}

/** A MessageSuppressed as the answer reports it: for a cap, the messages it counted then; for consent, who unsubscribed. */
function suppressionFact(
  d: { reason: string; detail?: string; guards?: Array<{ guard: string; verdict: string }>; channel: string },
  customer: CustomerAsOf,
  t: CompiledTrigger,
  at: number,
): NonNullable<MessageFact['suppressed']> {
  const detail = d.detail ?? d.reason;
  if (d.reason === 'frequency-cap') {
    const guard = d.guards?.find((g) => g.verdict === 'suppressed')?.guard ?? '';
    const m = CAP_GUARD.exec(guard);
    const messages = m
      ? counted(
          customer.view.messages,
          { max: Number(m[1]), perMs: parseDuration(m[2])!.ms, scope: m[3] as 'customer' },
          d.channel,
          t.id,
          at,
        )
      : [];
    return { reason: d.reason, detail, events: [], messages };
  }
  if (d.reason === 'consent') return { reason: d.reason, detail, events: consentEvents(detail, customer.traitSetBy) };
  return { reason: d.reason, detail, events: [] };
}

/** The answer from the log: the latest run of the version and what became of it. */
function fromRun(
  run: RunFact,
  t: CompiledTrigger,
  customerId: string,
  asOf: number,
  cause: ActivityRecord | undefined,
): Omit<WhyNotAnswer, 'customerId' | 'triggerId' | 'version' | 'asOf' | 'checks'> {
  const started = `run ${run.runId} started at ${isoTime(run.matchedAt)}${run.cause ? ` on event ${run.cause}` : ''}`;
  const causeRef = cause ? [eventRef(cause)] : [];
  const sent = [...run.messages].reverse().find((m) => m.status !== 'suppressed');
  if (sent) {
    const message = {
      messageId: sent.messageId,
      channel: sent.channel,
      ...(sent.step !== undefined ? { step: sent.step } : {}),
      scheduledAt: isoTime(sent.at),
      ...(sent.notBefore ? { notBefore: sent.notBefore } : {}),
      status: sent.status,
    };
    if (sent.notBefore && Date.parse(sent.notBefore) > asOf)
      return {
        got: false,
        code: 'quiet-hours',
        reason: `quiet hours: message ${sent.messageId} (${started}) is deferred to ${sent.notBefore}`,
        events: causeRef,
        message,
        deferredTo: sent.notBefore,
      };
    if (sent.status === 'failed')
      return {
        got: false,
        code: 'delivery-failed',
        reason: `delivery failed: message ${sent.messageId} via ${sent.channel} (${started}) could not be delivered (see its explain)`,
        events: causeRef,
        message,
      };
    return {
      got: true,
      code: 'sent',
      reason: `they got it: message ${sent.messageId} via ${sent.channel} (${started}), ${sent.status}`,
      events: causeRef,
      message,
    };
  }
  const suppressed = run.messages.at(-1);
  if (suppressed?.suppressed) {
    const s = suppressed.suppressed;
    const code: WhyNotCode = (['consent', 'frequency-cap', 'priority'] as const).find((c) => c === s.reason) ?? 'suppressed';
    const counted = s.messages
      ? `: ${s.messages.length} already sent in that window (${s.messages.map((m) => m.messageId).join(', ')})`
      : '';
    const by = s.events[0] ? ` (at ${s.events[0].at}, event ${s.events[0].id})` : '';
    return {
      got: false,
      code,
      reason: `${s.reason}: message ${suppressed.messageId} was suppressed: ${s.detail}${counted}${by} (${started})`,
      events: [...causeRef, ...s.events],
      ...(s.messages ? { messages: s.messages } : {}),
    };
  }
  if (run.holdout) {
    const step = t.steps.get(run.holdout);
    const holdout = step?.kind === 'split' ? step.holdout : 0;
    const value = splitBucket(t.id, customerId);
    return {
      got: false,
      code: 'holdout',
      reason: `holdout: the split at step ${run.holdout} held them out (their bucket ${value} is below the ${holdout}% holdout) (${started})`,
      events: causeRef,
      bucket: { value, holdout, step: run.holdout },
    };
  }
  if (run.exit)
    return {
      got: false,
      code: 'run-exited',
      reason: `the run exited (${run.exit.reason}) at ${isoTime(run.exit.at)} before any message (${started})`,
      events: causeRef,
    };
  return { got: false, code: 'waiting', reason: `the run is waiting at step ${run.step ?? t.first} (${started})`, events: causeRef };
}

/** The evaluation when the log has no run of the version: what the decision on the candidate (or the watch) found. */
function evaluate(
  input: WhyNotInput,
  customer: CustomerAsOf,
  noCandidate: boolean,
  hypothesis: Hypothesis | undefined,
  checks: WhyNotCheck[],
): Omit<Hypothesis, never> {
  const { trigger: t, asOf } = input;
  if (input.definedAt !== undefined && input.definedAt > asOf) {
    const reason = `version ${t.version} was defined at ${isoTime(input.definedAt)}, after ${isoTime(asOf)}`;
    checks.unshift({ check: 'defined', passed: false, text: reason });
    return { code: 'not-defined', reason, events: [] };
  }
  if (!input.enabledAt(asOf)) {
    const reason = `the trigger was disabled at ${isoTime(asOf)}`;
    checks.unshift({ check: 'enabled', passed: false, text: reason });
    return { code: 'trigger-disabled', reason, events: [] };
  }
  checks.unshift({ check: 'enabled', passed: true, text: `the trigger was enabled at ${isoTime(asOf)}` });
  if (t.entry.temporal) return decideWatch(input, customer, checks);
  if (noCandidate || !hypothesis) {
    const reason = `entry not met: no ${anchorWords(t.definition.entry)} by ${isoTime(asOf)}`;
    checks.push({ check: 'entry', passed: false, text: reason });
    return { code: 'entry-not-met', reason, events: [] };
  }
  return hypothesis;
}

/** The decision on one event, again: enabled then, a run active, age, re-entry, entry, then the run's path to a send. */
function decideAgain(
  input: WhyNotInput,
  customer: CustomerAsOf,
  before: RunState,
  ctx: EvalContext,
  checks: WhyNotCheck[],
  claimedBy: string[] | undefined,
): Hypothesis {
  const { trigger: t } = input;
  const e = ctx.event!;
  const on = `${e.name} (${e.id}) at ${isoTime(e.at)}`;
  const fail = (check: string, code: WhyNotCode, reason: string, events: EventRef[] = [eventRef(e)], more: Partial<Hypothesis> = {}) => {
    checks.push({ check, passed: false, text: reason, events });
    return { code, reason, events, ...more };
  };
  const pass = (check: string, text: string, events?: EventRef[]) =>
    checks.push({ check, passed: true, text, ...(events ? { events } : {}) });
  if (!input.enabledAt(ctx.now))
    return fail('enabled', 'trigger-disabled', `the trigger was not enabled when ${on} arrived (${isoTime(ctx.now)})`);
  if (before.active)
    return fail(
      'run-active',
      'run-active',
      `a run (${before.active.runId}, version ${before.active.version}) was still active at step ${before.active.step} when ${on} arrived`,
    );
  const age = ctx.now - e.at;
  if (age > t.maxEventAgeMs)
    return fail(
      'event-age',
      'event-too-old',
      `event too old: ${on} arrived at ${isoTime(ctx.now)}, more than maxEventAge ${t.definition.maxEventAge ?? '7d'} after it happened`,
    );
  pass('event-age', `${on} arrived within maxEventAge ${t.definition.maxEventAge ?? '7d'}`);
  if (t.reentry.kind === 'once' && before.entries > 0)
    return fail('reentry', 'reentry', `re-entry: already ran at ${isoTime(before.lastEnteredAt!)} and the trigger runs once per customer`);
  if (t.reentry.kind === 'oncePer' && before.lastEnteredAt !== undefined && ctx.now - before.lastEnteredAt < t.reentry.ms)
    return fail(
      'reentry',
      'reentry',
      `re-entry: already ran at ${isoTime(before.lastEnteredAt)}; once per ${(t.definition.reentry as { oncePer: string }).oncePer}, so not before ${isoTime(before.lastEnteredAt + t.reentry.ms)}`,
    );
  pass('reentry', before.entries > 0 ? `ran before (at ${isoTime(before.lastEnteredAt!)}), re-entry allows it` : 'never ran before');
  const entry = explainSignal(t.definition.entry, ctx, { traitSetBy: customer.traitSetBy });
  if (!entry.ok) return fail('entry', 'entry-not-met', `entry not met on ${on}: ${entry.text}`, entry.events ?? []);
  pass('entry', `entry met on ${on}: ${entry.text}`, entry.events);
  return walkSteps(input, customer, ctx, checks, claimedBy, fail);
}

/** The run's path from its first step to the first message (or its end), as `RunDecision.run` takes it. */
function walkSteps(
  input: WhyNotInput,
  customer: CustomerAsOf,
  ctx: EvalContext,
  checks: WhyNotCheck[],
  claimedBy: string[] | undefined,
  fail: (check: string, code: WhyNotCode, reason: string, events?: EventRef[], more?: Partial<Hypothesis>) => Hypothesis,
): Hypothesis {
  const { trigger: t, asOf, customerId } = input;
  const events = ctx.event ? [eventRef(ctx.event)] : [];
  let addr = t.first;
  for (let guard = 0; addr !== END && guard < 10_000; guard++) {
    const step = t.steps.get(addr)!;
    switch (step.kind) {
      case 'wait': {
        const due = ctx.now + step.ms;
        if (due > asOf)
          return fail('wait', 'waiting', `the run would wait at step ${addr} until ${isoTime(due)}, after ${isoTime(asOf)}`, events);
        checks.push({ check: 'wait', passed: true, text: `step ${addr} waits until ${isoTime(due)}` });
        addr = step.next;
        break;
      }
      case 'waitUntil':
        return fail(
          'wait',
          'waiting',
          `the run would wait at step ${addr} for an event (timeout at ${isoTime(ctx.now + step.timeoutMs)})`,
          events,
        );
      case 'branch': {
        const def = branchSignal(t, addr);
        const verdict = def ? explainSignal(def, ctx, { traitSetBy: customer.traitSetBy }) : { ok: step.test(ctx), text: 'branch' };
        checks.push({
          check: `branch ${addr}`,
          passed: true,
          text: `${verdict.ok ? 'then' : 'else'}: ${verdict.text}`,
          events: verdict.events,
        });
        addr = verdict.ok ? step.then : step.else;
        break;
      }
      case 'split': {
        const value = splitBucket(t.id, customerId);
        if (value < step.holdout)
          return fail(
            'split',
            'holdout',
            `holdout: the split at step ${addr} holds them out (their bucket ${value} is below the ${step.holdout}% holdout)`,
            events,
            {
              bucket: { value, holdout: step.holdout, step: addr },
            },
          );
        const total = step.variants.reduce((s, v) => s + v.weight, 0);
        let point = ((value - step.holdout) / (100 - step.holdout)) * total;
        let variant = step.variants[step.variants.length - 1];
        for (const v of step.variants) {
          if (point < v.weight) {
            variant = v;
            break;
          }
          point -= v.weight;
        }
        checks.push({ check: `split ${addr}`, passed: true, text: `bucket ${value}: variant ${variant.name}` });
        addr = variant.first;
        break;
      }
      case 'send': {
        const top = (claimedBy ?? [])
          .filter((id) => id !== t.id)
          .map((id) => ({ triggerId: id, priority: input.priorities?.get(id) ?? 0 }))
          .sort((a, b) => b.priority - a.priority)[0];
        const outcome = checkGuards({ triggerId: t.id, priority: t.priority, caps: t.caps, quietHours: t.quietHours }, step, {
          now: ctx.now,
          traits: ctx.traits,
          timeZone: ctx.timeZone,
          messages: customer.view.messages,
          ...(top ? { claim: top } : {}),
          ...(input.workspaceQuietHours ? { workspaceQuietHours: input.workspaceQuietHours } : {}),
        });
        for (const g of outcome.guards)
          checks.push({ check: g.guard, passed: g.verdict !== 'suppressed', text: `${g.verdict}: ${g.detail}` });
        if (outcome.suppressed) {
          const r = guardReason(outcome, customer, t, step.channel, ctx.now);
          return { ...r, events: [...events, ...r.events] };
        }
        if (outcome.notBefore) {
          const deferredTo = isoTime(outcome.notBefore);
          return {
            code: 'quiet-hours',
            reason: `quiet hours: the send at step ${addr} would be deferred to ${deferredTo}`,
            events,
            deferredTo,
          };
        }
        return {
          code: 'would-send',
          reason: `nothing kept them out: the send at step ${addr} (${step.channel}) would go out, yet the log has no run of version ${t.version} for them (the reactor has not decided on it yet, or the trigger was changed since)`,
          events,
        };
      }
      case 'exit':
        return fail('exit', 'run-exited', `the run would exit at step ${addr} (${step.reason}) before any message`, events);
      default:
        addr = (step as { next: string }).next;
        break;
    }
  }
  return fail('steps', 'run-exited', 'the run would end without sending a message (no send step on its path)', events);
}

/** The `if` of the branch step at an address (from the definition). */
function branchSignal(t: CompiledTrigger, addr: string): Signal | undefined {
  const parts = addr.split('.');
  let steps = t.definition.steps;
  let step: (typeof steps)[number] | undefined;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (/^\d+$/.test(p)) {
      step = steps[Number(p)];
      continue;
    }
    if (!step) return undefined;
    if (p === 'then' || p === 'else') steps = ('branch' in step ? step.branch[p] : undefined) ?? [];
    else if (p === 'onEvent' || p === 'onTimeout') steps = ('wait' in step && 'until' in step.wait ? step.wait[p] : undefined) ?? [];
    else if (p === 'variants') steps = 'split' in step ? step.split.variants[Number(parts[++i])].steps : [];
  }
  return step && 'branch' in step ? step.branch.if : undefined;
}

/** A temporal entry (absence, inactivity, date) evaluated at `asOf`: its watch, then the rest of the entry and the run at its due time. */
function decideWatch(input: WhyNotInput, customer: CustomerAsOf, checks: WhyNotCheck[]): Hypothesis {
  const { trigger: t, asOf } = input;
  const entry = t.definition.entry;
  const signal: Signal = 'all' in entry ? (entry.all.find((s) => 'absent' in s || 'inactive' in s || 'date' in s) ?? entry) : entry;
  const { history, traits } = customer.view;
  const timeZone = customerTimeZone(customer.view);
  const fail = (check: string, code: WhyNotCode, reason: string, events: EventRef[] = [], more: Partial<Hypothesis> = {}) => {
    checks.push({ check, passed: false, text: reason, events });
    return { code, reason, events, ...more };
  };
  let dueAt: number | undefined;
  let events: EventRef[] = [];
  if ('absent' in signal) {
    const { absent } = signal;
    const reference = compileEventRecordMatch(absent.after);
    const missing = compileEventRecordMatch(absent);
    const ref = [...history].reverse().find((r) => reference(r, asOf));
    if (!ref)
      return fail('watch', 'entry-not-met', `entry not met: no ${absent.after.event} event to start the absence watch by ${isoTime(asOf)}`);
    dueAt = ref.at + parseDuration(absent.for)!.ms;
    events = [eventRef(ref)];
    const seen = history.find((r) => r.at >= ref.at && r.at < dueAt! && missing(r, asOf));
    if (seen)
      return fail(
        'watch',
        'entry-not-met',
        `entry not met: the absence watch started by ${absent.after.event} at ${isoTime(ref.at)} was cancelled by ${seen.name} at ${isoTime(seen.at)} (${seen.id})`,
        [eventRef(ref), eventRef(seen)],
      );
  } else if ('inactive' in signal) {
    const last = [...history].reverse().find((r) => r.activity);
    if (!last) return fail('watch', 'entry-not-met', 'entry not met: no activity to start the inactivity watch');
    dueAt = last.at + parseDuration(signal.inactive.for)!.ms;
    events = [eventRef(last)];
  } else if ('date' in signal) {
    const armed = customer.view.runs.get(t.id)?.armed;
    if (armed) dueAt = armed.dueAt;
    else {
      const { trait } = signal.date;
      const value = trait !== undefined ? traits[trait] : undefined;
      return fail(
        'watch',
        'entry-not-met',
        `entry not met: no date watch is armed (${trait !== undefined ? `trait ${trait} is ${fmt(value)}` : `no ${signal.date.event} event with ${signal.date.property}`})`,
      );
    }
  }
  if (dueAt === undefined) return fail('watch', 'entry-not-met', 'entry not met');
  if (dueAt > asOf)
    return fail(
      'watch',
      'not-due-yet',
      `not due yet: the ${Object.keys(signal)[0]} watch is due at ${isoTime(dueAt)} (in ${timeZone}), after ${isoTime(asOf)}`,
      events,
    );
  checks.push({ check: 'watch', passed: true, text: `the ${Object.keys(signal)[0]} watch was due at ${isoTime(dueAt)}`, events });
  const before = customer.view.runs.get(t.id) ?? initialRunState(t.id);
  if (t.reentry.kind === 'once' && before.entries > 0)
    return fail('reentry', 'reentry', `re-entry: already ran at ${isoTime(before.lastEnteredAt!)} and the trigger runs once per customer`);
  const ctx: EvalContext = {
    now: dueAt,
    traits,
    previousTraits: traits,
    stage: customer.view.stage,
    history,
    timeZone,
    segments: customer.segments,
    accountTraits: customer.accountTraits,
  };
  if ('all' in entry) {
    const rest = explainSignal({ all: entry.all.filter((s) => s !== signal) }, ctx, { traitSetBy: customer.traitSetBy });
    if (!rest.ok) return fail('entry', 'entry-not-met', `entry not met at ${isoTime(dueAt)}: ${rest.text}`, rest.events ?? []);
  }
  return walkSteps(input, customer, ctx, checks, undefined, fail);
}
