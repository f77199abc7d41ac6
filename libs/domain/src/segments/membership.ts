/**
 * Segment membership, pure: a segment's conditions compile once into a predicate over the customer's view (the trigger
 * language's compiled conditions, with absence read as a state), and `decideSegments` answers each input of a customer
 * with SegmentEntered / SegmentLeft on the customer's stream when the answer changed. Where time alone changes the
 * answer (an event leaving a count's window, inactivity, absence, a usage drop, a relative date), it schedules ONE
 * durable timer per segment and customer (TimerScheduled, purpose `segment:<segmentId>`, fired by the TimerScheduler)
 * at the earliest time the answer can change, and decides again when it fires: never a periodic scan.
 *
 * The earliest change: every leaf of the condition is constant between its breakpoints (an event entering or leaving
 * a window, the last activity + `for`, the reference event + `for`, a date trait minus a relative bound), so the
 * condition is evaluated at each breakpoint after now, in time order, and the first one that gives another answer is
 * the timer's due time (at most `MAX_PROBES` are tried; past them, the timer is set at the last one tried, to look again).
 */
import { typed, type JourneyEvent, type Properties, type Stage, type Traits, type TypedEvent } from '../events';
import { envelope } from '../envelope';
import { deterministicId } from '../ids';
import {
  addHistoryNeeds,
  compileEventRecordMatch,
  compileSignal,
  emptyHistoryNeeds,
  pruneHistory,
  type ActivityRecord,
  type EvalContext,
  type HistoryNeeds,
  type Predicate,
} from '../triggers/conditions';
import { TRIGGER_BOOKKEEPING_TYPES, activityRecord } from '../triggers/customer';
import type { FilterOps, PropertyFilters, Signal } from '../triggers/schema';
import { dateValue, parseDuration } from '../triggers/time';
import type { SegmentState } from './definition';
import type { SegmentDefinition } from './schema';

/** `metadata.source` of the membership decisions (and their timers). */
export const SEGMENT_SOURCE = 'segments';
/** `metadata.source` of a backfill's SegmentEvaluationRequested (an input, not an effect of a decision). */
export const SEGMENT_BACKFILL_SOURCE = 'segments-backfill';
export const SEGMENT_TIMER_PREFIX = 'segment:';
/** Breakpoints tried per decision when looking for the next change (see the module's comment). */
export const MAX_PROBES = 64;
/** Reasons of SegmentLeft. */
export const LEFT_CONDITIONS = 'conditions';
export const LEFT_REMOVED = 'segment-removed';

export interface CompiledSegment {
  id: string;
  version: number;
  removed: boolean;
  /** Whether the customer is in the segment at `ctx.now`. */
  holds: Predicate;
  /**
   * The earliest time after `ctx.now` (and before `before`, when given: a pending timer due then looks again anyway) at
   * which `holds` answers otherwise if no event comes, or undefined.
   */
  changesAt(ctx: EvalContext, before?: number): number | undefined;
  /** What the condition reads from a customer's history. */
  needs: HistoryNeeds;
  /** Whether any activity counts (inactivity, a usage drop without an event name). */
  readsActivity: boolean;
}

/** A segment's latest version compiled (removed: it holds for nobody, its members leave). */
export function compileSegmentState(state: SegmentState): CompiledSegment | undefined {
  const definition = state.definitions[state.version];
  if (!definition) return undefined;
  return compileSegment(definition, state.version, state.removed);
}

export function compileSegment(definition: SegmentDefinition, version: number, removed = false): CompiledSegment {
  const holds = compileCondition(definition.conditions);
  const breakpoints = compileBreakpoints(definition.conditions);
  return {
    id: definition.id,
    version,
    removed,
    holds,
    needs: segmentHistoryNeeds(definition.conditions),
    readsActivity: readsActivity(definition.conditions),
    changesAt: (ctx, before = Infinity) => {
      if (breakpoints.length === 0) return undefined;
      const found = new Set<number>();
      for (const b of breakpoints) for (const t of b(ctx)) if (t > ctx.now && t < before && Number.isFinite(t)) found.add(t);
      if (found.size === 0) return undefined;
      const times = [...found].sort((a, b) => a - b);
      if (times.length === 0) return undefined;
      const now = holds(ctx);
      const probes = times.slice(0, MAX_PROBES);
      for (const t of probes) if (holds({ ...ctx, now: t }) !== now) return t;
      return times.length > MAX_PROBES ? probes[probes.length - 1] : undefined;
    },
  };
}

function readsActivity(signal: Signal): boolean {
  if ('all' in signal) return signal.all.some(readsActivity);
  if ('any' in signal) return signal.any.some(readsActivity);
  if ('not' in signal) return readsActivity(signal.not);
  return 'inactive' in signal || ('usageDrop' in signal && signal.usageDrop.event === undefined);
}

/** A segment condition as a predicate: the trigger language's, absence and inactivity read as states. */
function compileCondition(signal: Signal): Predicate {
  if ('all' in signal) {
    const parts = signal.all.map(compileCondition);
    return (ctx) => parts.every((p) => p(ctx));
  }
  if ('any' in signal) {
    const parts = signal.any.map(compileCondition);
    return (ctx) => parts.some((p) => p(ctx));
  }
  if ('not' in signal) {
    const inner = compileCondition(signal.not);
    return (ctx) => !inner(ctx);
  }
  if ('inactive' in signal) {
    const forMs = parseDuration(signal.inactive.for)!.ms;
    return (ctx) => (lastActivity(ctx.history) ?? -Infinity) + forMs <= ctx.now;
  }
  if ('absent' in signal) {
    const absent = compileEventRecordMatch(signal.absent);
    const reference = compileEventRecordMatch(signal.absent.after);
    const forMs = parseDuration(signal.absent.for)!.ms;
    // the latest reference event is `for` old, and the awaited event did not happen since it
    return (ctx) => {
      const ref = latest(ctx.history, (r) => reference(r, ctx.now));
      return ref !== undefined && ref.at + forMs <= ctx.now && !ctx.history.some((r) => r.at >= ref.at && absent(r, ctx.now));
    };
  }
  return compileSignal(signal);
}

type Breakpoints = (ctx: EvalContext) => number[];

/** The times at which a leaf of the condition may change its answer, with no new event. */
function compileBreakpoints(signal: Signal): Breakpoints[] {
  if ('all' in signal) return signal.all.flatMap(compileBreakpoints);
  if ('any' in signal) return signal.any.flatMap(compileBreakpoints);
  if ('not' in signal) return compileBreakpoints(signal.not);
  if ('count' in signal || 'sum' in signal) {
    const agg = 'count' in signal ? signal.count : signal.sum;
    const match = compileEventRecordMatch(agg);
    const within = parseDuration(agg.within)!.ms;
    return [(ctx) => ctx.history.filter((r) => match(r, ctx.now)).flatMap((r) => [r.at, r.at + within])];
  }
  if ('usageDrop' in signal) {
    const { event } = signal.usageDrop;
    const windowMs = parseDuration(signal.usageDrop.window)!.ms;
    const baselineMs = parseDuration(signal.usageDrop.baseline)!.ms;
    return [
      (ctx) =>
        ctx.history
          .filter((r) => (event === undefined ? r.activity : r.name === event))
          .flatMap((r) => [r.at, r.at + windowMs, r.at + windowMs + baselineMs]),
    ];
  }
  if ('inactive' in signal) {
    const forMs = parseDuration(signal.inactive.for)!.ms;
    return [(ctx) => [(lastActivity(ctx.history) ?? -Infinity) + forMs]];
  }
  if ('absent' in signal) {
    const reference = compileEventRecordMatch(signal.absent.after);
    const forMs = parseDuration(signal.absent.for)!.ms;
    return [
      (ctx) => {
        const ref = latest(ctx.history, (r) => reference(r, ctx.now));
        return ref ? [ref.at + forMs] : [];
      },
    ];
  }
  if ('traits' in signal) {
    const dates = relativeDates(signal.traits);
    return dates ? [(ctx) => dates(ctx.traits)] : [];
  }
  if ('account' in signal) {
    const dates = relativeDates(signal.account);
    return dates ? [(ctx) => Object.values(ctx.accountTraits ?? {}).flatMap(dates)] : [];
  }
  return [];
}

/** Filters with a date relative to now (`before: "-30d"`): the times their answer flips for the given traits. */
function relativeDates(filters: PropertyFilters): ((traits: Traits) => number[]) | undefined {
  const bounds: Array<{ path: string; ms: number }> = [];
  for (const [path, f] of Object.entries(filters)) {
    if (f === null || typeof f !== 'object') continue;
    for (const op of ['before', 'after'] as const) {
      const rel = parseDuration((f as FilterOps)[op], true);
      if (rel) bounds.push({ path, ms: rel.ms });
    }
  }
  if (bounds.length === 0) return undefined;
  return (traits) =>
    bounds.flatMap(({ path, ms }) => {
      const v = dateValue(valueAt(traits, path));
      return v === undefined ? [] : [v - ms, v - ms + 1];
    });
}

function valueAt(obj: Properties, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function lastActivity(history: readonly ActivityRecord[]): number | undefined {
  return latest(history, (r) => r.activity)?.at;
}

function latest(history: readonly ActivityRecord[], test: (r: ActivityRecord) => boolean): ActivityRecord | undefined {
  for (let i = history.length - 1; i >= 0; i--) if (test(history[i])) return history[i];
  return undefined;
}

/** What a segment condition reads from history (absence also keeps its reference event). */
export function segmentHistoryNeeds(signal: Signal, needs: HistoryNeeds = emptyHistoryNeeds()): HistoryNeeds {
  addHistoryNeeds(needs, signal);
  const walk = (s: Signal): void => {
    if ('all' in s) s.all.forEach(walk);
    else if ('any' in s) s.any.forEach(walk);
    else if ('not' in s) walk(s.not);
    else if ('absent' in s) needs.byName.set(s.absent.after.event, Infinity);
  };
  walk(signal);
  return needs;
}

// ── the customer's view

export interface SegmentView {
  traits: Traits;
  stage: Stage | null;
  /** The customer's events as conditions see them, ordered by event time (pruned to what the segments read). */
  history: ActivityRecord[];
  /** Traits of the customer's accounts (AccountLinked, merged per group). */
  accounts: Record<string, Traits>;
  /** The segments the customer is in: the version entered and when. */
  members: Map<string, { version: number; enteredAt: string }>;
  /** The pending membership timer of each segment. */
  timers: Map<string, { timerId: string; dueAt: number }>;
  /** timerId -> segmentId of the pending timers. */
  timerSegments: Map<string, string>;
  pruneAt: number;
}

const PRUNE_FROM = 8;

export function emptySegmentView(): SegmentView {
  return {
    traits: {},
    stage: null,
    history: [],
    accounts: {},
    members: new Map(),
    timers: new Map(),
    timerSegments: new Map(),
    pruneAt: PRUNE_FROM,
  };
}

/** The segment reactor's own events (and the backfill's requests): never history a condition reads. */
const SEGMENT_TYPES: ReadonlySet<string> = new Set(['SegmentEntered', 'SegmentLeft', 'SegmentEvaluationRequested']);

/** How segment conditions see an event (undefined for bookkeeping, timers and membership events). */
export function segmentRecord(e: JourneyEvent): ActivityRecord | undefined {
  return SEGMENT_TYPES.has(e.type) ? undefined : activityRecord(e);
}

/** Events the membership decider decides on: every customer event but bookkeeping, others' timers and its own events. */
export function isSegmentInput(e: JourneyEvent): boolean {
  if (e.type === 'SegmentEvaluationRequested') return true;
  if (e.type === 'TimerFired') return String(e.data.purpose).startsWith(SEGMENT_TIMER_PREFIX);
  return !SEGMENT_TYPES.has(e.type) && !TRIGGER_BOOKKEEPING_TYPES.has(e.type) && e.type !== 'TimerCancelled';
}

/** Folds one event into the view (mutates it). */
export function applyToSegmentView(view: SegmentView, event: JourneyEvent, record = segmentRecord(event)): void {
  const e = typed(event);
  switch (e.type) {
    case 'CustomerIdentified':
    case 'TraitsUpdated':
      view.traits = { ...view.traits, ...e.data.traits };
      break;
    case 'StageChanged':
      view.stage = e.data.to;
      break;
    case 'AccountLinked':
      view.accounts = { ...view.accounts, [e.data.groupId]: { ...view.accounts[e.data.groupId], ...e.data.traits } };
      break;
    case 'CustomerForgotten':
      // personal data erased: what the conditions read goes with it (the customer then leaves what no longer holds)
      view.traits = {};
      view.accounts = {};
      view.history = [];
      view.stage = null;
      return;
    case 'SegmentEntered':
      view.members.set(e.data.segmentId, { version: e.data.version, enteredAt: e.metadata.occurredAt });
      break;
    case 'SegmentLeft':
      view.members.delete(e.data.segmentId);
      break;
    case 'TimerScheduled':
      if (typeof e.data.purpose === 'string' && e.data.purpose.startsWith(SEGMENT_TIMER_PREFIX)) {
        const segmentId = e.data.purpose.slice(SEGMENT_TIMER_PREFIX.length);
        view.timers.set(segmentId, { timerId: e.data.timerId, dueAt: Date.parse(e.data.dueAt) });
        view.timerSegments.set(e.data.timerId, segmentId);
      }
      break;
    case 'TimerFired':
    case 'TimerCancelled': {
      const segmentId = view.timerSegments.get(e.data.timerId);
      if (segmentId === undefined) break;
      view.timerSegments.delete(e.data.timerId);
      if (view.timers.get(segmentId)?.timerId === e.data.timerId) view.timers.delete(segmentId);
      break;
    }
    default:
      break;
  }
  if (record) insertByTime(view.history, record);
}

function insertByTime(history: ActivityRecord[], r: ActivityRecord): void {
  let i = history.length;
  while (i > 0 && history[i - 1].at > r.at) i--;
  history.splice(i, 0, r);
}

/** What deciding for these segments reads from history. */
export function segmentsHistoryNeeds(segments: readonly CompiledSegment[]): HistoryNeeds {
  const needs = emptyHistoryNeeds();
  for (const s of segments) {
    for (const [name, ms] of s.needs.byName) needs.byName.set(name, Math.max(needs.byName.get(name) ?? 0, ms));
    needs.activityMs = Math.max(needs.activityMs, s.needs.activityMs);
  }
  return needs;
}

/** Drops history no segment reads any more, once the view has doubled since the last pruning (amortized O(1)). */
export function pruneSegmentView(view: SegmentView, needs: HistoryNeeds, now: number): void {
  if (view.history.length < view.pruneAt) return;
  view.history = pruneHistory(view.history, needs, now);
  view.pruneAt = Math.max(PRUNE_FROM, 2 * view.history.length);
}

// ── the decider

/**
 * Decides every segment of the workspace on one input of the customer (folded into the view first, unless `folded`):
 * SegmentEntered when the condition holds and the customer is not in, SegmentLeft (`conditions`) when it no longer
 * holds, SegmentLeft (`segment-removed`) for a removed segment's members, and the membership timer when the answer will
 * change with time alone (a pending timer due earlier is kept; a later one is cancelled for the earlier). Ids are
 * deterministic (customer, input, segment), so a replay decides the same events. Folds its effects into the view.
 */
export function decideSegments(
  segments: readonly CompiledSegment[],
  view: SegmentView,
  input: JourneyEvent,
  now: Date,
  folded = false,
): JourneyEvent[] {
  if (!folded) applyToSegmentView(view, input);
  if (!isSegmentInput(input) || !concerns(segments, view, input)) return [];
  const { workspaceId, customerId } = input.metadata;
  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const ctx: EvalContext = {
    now: nowMs,
    event: segmentRecord(input),
    traits: view.traits,
    previousTraits: view.traits,
    stage: view.stage,
    history: view.history,
    timeZone: 'UTC',
    segments: new Set(view.members.keys()),
    accountTraits: view.accounts,
  };
  const out: JourneyEvent[] = [];
  const emit = <T extends 'SegmentEntered' | 'SegmentLeft' | 'TimerScheduled' | 'TimerCancelled'>(
    type: T,
    data: TypedEvent<T>['data'],
    segmentId: string,
  ) => {
    const e = envelope({
      id: deterministicId('segment', workspaceId, customerId, input.id, segmentId, type),
      type,
      data,
      workspaceId,
      customerId,
      occurredAt: nowIso,
      recordedAt: nowIso,
      cause: input,
      source: SEGMENT_SOURCE,
    });
    applyToSegmentView(view, e);
    out.push(e);
  };
  const cancel = (segmentId: string) => {
    const pending = view.timers.get(segmentId);
    if (pending) emit('TimerCancelled', { timerId: pending.timerId, reason: 'rescheduled' }, segmentId);
  };
  for (const segment of bySegmentId(segments)) {
    const member = view.members.get(segment.id);
    if (segment.removed) {
      if (member) emit('SegmentLeft', { segmentId: segment.id, version: segment.version, reason: LEFT_REMOVED }, segment.id);
      cancel(segment.id);
      continue;
    }
    const holds = segment.holds(ctx);
    if (holds && !member) emit('SegmentEntered', { segmentId: segment.id, version: segment.version }, segment.id);
    else if (!holds && member)
      emit('SegmentLeft', { segmentId: segment.id, version: segment.version, reason: LEFT_CONDITIONS }, segment.id);
    const pending = view.timers.get(segment.id);
    const next = segment.changesAt(ctx, pending?.dueAt);
    if (next !== undefined) {
      cancel(segment.id);
      const timerId = deterministicId('segment-timer', workspaceId, customerId, input.id, segment.id);
      emit(
        'TimerScheduled',
        {
          timerId,
          dueAt: new Date(next).toISOString(),
          purpose: `${SEGMENT_TIMER_PREFIX}${segment.id}`,
          payload: { segmentId: segment.id, version: segment.version },
        },
        segment.id,
      );
    }
  }
  return out;
}

/** Inputs that may change any segment's answer whatever they are (state, timers, backfill requests). */
const ALWAYS: ReadonlySet<string> = new Set([
  'CustomerIdentified',
  'TraitsUpdated',
  'StageChanged',
  'AccountLinked',
  'CustomerForgotten',
  'TimerFired',
  'SegmentEvaluationRequested',
]);

/**
 * Whether an input can change an answer now: a state change, a timer, a request, or a record some condition reads (by
 * name, or as activity); and every input for a removed segment's members. The others change nothing but the time,
 * which the membership timers already watch.
 */
function concerns(segments: readonly CompiledSegment[], view: SegmentView, input: JourneyEvent): boolean {
  if (ALWAYS.has(input.type)) return true;
  const record = segmentRecord(input);
  for (const s of segments) {
    if (s.removed ? view.members.has(s.id) : record && (s.needs.byName.has(record.name) || (record.activity && s.readsActivity)))
      return true;
  }
  return false;
}

const sorted = new WeakMap<readonly CompiledSegment[], CompiledSegment[]>();
function bySegmentId(segments: readonly CompiledSegment[]): CompiledSegment[] {
  let s = sorted.get(segments);
  if (!s) sorted.set(segments, (s = [...segments].sort((a, b) => a.id.localeCompare(b.id))));
  return s;
}

// ── the one-time backfill of a changed segment

/**
 * The backfill of a change (a version defined: every customer of the workspace; a removal: the segment's members),
 * page by page: a SegmentEvaluationRequested on each customer's stream (the input the membership decider then decides
 * on, in the customer's order), and a SegmentBackfillProgressed on the segment's stream naming the last customer of the
 * page (the next page starts after it; `done` when the page was not full). Ids derive from the change and the customer
 * (or the page), so a page asked twice (a replay after a crash) appends nothing new: the backfill is resumable.
 */
export function backfillPage(
  change: TypedEvent<'SegmentDefined' | 'SegmentRemoved'> | TypedEvent<'SegmentBackfillProgressed'>,
  customers: readonly string[],
  pageSize: number,
  now: Date,
): { requests: JourneyEvent[]; progress: JourneyEvent } {
  const e = typed(change as JourneyEvent);
  const workspaceId = change.metadata.workspaceId;
  const of = e.type === 'SegmentBackfillProgressed' ? e.data.of : (e.type as 'SegmentDefined' | 'SegmentRemoved');
  const { segmentId, version } = change.data as { segmentId: string; version: number };
  const before = e.type === 'SegmentBackfillProgressed' ? e.data.customers : 0;
  const root = change.metadata.correlationId ?? change.id;
  const at = now.toISOString();
  const requests = customers.map((customerId) =>
    envelope({
      id: deterministicId('segment-evaluation', root, customerId),
      type: 'SegmentEvaluationRequested',
      data: { segmentId, version },
      workspaceId,
      customerId,
      occurredAt: at,
      recordedAt: at,
      cause: change,
      source: SEGMENT_BACKFILL_SOURCE,
    }),
  );
  const after = customers.length > 0 ? customers[customers.length - 1] : e.type === 'SegmentBackfillProgressed' ? e.data.after : '';
  const progress = envelope({
    id: deterministicId('segment-backfill', root, after, customers.length),
    type: 'SegmentBackfillProgressed',
    data: { segmentId, version, of, after, customers: before + customers.length, done: customers.length < pageSize },
    workspaceId,
    customerId: '',
    occurredAt: at,
    recordedAt: at,
    cause: change,
    source: SEGMENT_SOURCE,
  });
  return { requests, progress };
}
