/**
 * The condition compiler: a signal tree is compiled ONCE into closures; evaluating an event never walks the JSON.
 * Temporal signals (absent, inactive, date) compile to a `TemporalSignal` driven by durable timers in the run decider.
 */
import type { Properties, Stage, Traits } from '../events';
import type { EventSignal, FilterOps, PropertyFilters, ReplySignal, Scalar, Signal, WindowAggregate } from './schema';
import { dateValue, localDate, parseClock, parseDuration, zonedTime } from './time';

/** One event of the customer's history, as conditions see it. */
export interface ActivityRecord {
  id: string;
  /** Track name (`InteractionRecorded`), `Page Viewed`/`Screen Viewed`, else the event type. */
  name: string;
  type: string;
  /** Event time (ms). */
  at: number;
  props: Properties;
  /** Customer activity (counts for `inactive`). */
  activity: boolean;
}

export interface EvalContext {
  now: number;
  /** The event being decided on (absent when a timer fired). */
  event?: ActivityRecord;
  traits: Traits;
  /** Traits before the event (for trait changes). */
  previousTraits: Traits;
  stage: Stage | null;
  /** The customer's events, ordered by event time (late events sorted in), including the current one. */
  history: readonly ActivityRecord[];
  timeZone: string;
  /** The segments the customer is in now (SegmentEntered not yet left), by id. */
  segments?: ReadonlySet<string>;
  /** The traits of each account the customer is linked to (AccountLinked), by group id. */
  accountTraits?: Readonly<Record<string, Traits>>;
}

export type Predicate = (ctx: EvalContext) => boolean;

/** A signal that becomes true when time passes: the run decider arms a durable timer at `arm`'s answer. */
export interface TemporalSignal {
  kind: 'absent' | 'inactive' | 'date';
  /** When the current event (re)arms the watch: the due time (ms), or undefined when it does not arm. */
  arm(ctx: EvalContext, armed: { dueAt: number } | undefined): number | undefined;
  /** Whether the current event cancels a pending watch. */
  cancels(ctx: EvalContext, dueAt: number): boolean;
  /** At the due time: whether the signal still holds (late events may have made it false). */
  holds(ctx: EvalContext, armedAt: number, dueAt: number): boolean;
  /** At the due time, when it does not hold: a later due time to watch on, if the watch moved (inactivity since a later activity). */
  rearm?(ctx: EvalContext, dueAt: number): number | undefined;
}

export interface CompiledEntry {
  temporal?: TemporalSignal;
  /** The rest of the entry (all of it when there is no temporal signal). */
  condition: Predicate;
}

const TRUE: Predicate = () => true;

export function compileEntry(signal: Signal): CompiledEntry {
  const temporal = compileTemporal(signal);
  if (temporal) return { temporal, condition: TRUE };
  if ('all' in signal) {
    const t = signal.all.find((s) => compileTemporal(s));
    if (t) return { temporal: compileTemporal(t), condition: compileSignal({ all: signal.all.filter((s) => s !== t) }) };
  }
  return { condition: compileSignal(signal) };
}

/** Compiles a non-temporal signal into a predicate. */
export function compileSignal(signal: Signal): Predicate {
  if ('event' in signal) return compileEventMatch(signal);
  if ('all' in signal) {
    const parts = signal.all.map(compileSignal);
    if (parts.length === 1) return parts[0];
    return (ctx) => {
      for (const p of parts) if (!p(ctx)) return false;
      return true;
    };
  }
  if ('any' in signal) {
    const parts = signal.any.map(compileSignal);
    return (ctx) => {
      for (const p of parts) if (p(ctx)) return true;
      return false;
    };
  }
  if ('not' in signal) {
    const inner = compileSignal(signal.not);
    return (ctx) => !inner(ctx);
  }
  if ('count' in signal) return compileWindow(signal.count, (records) => records.length);
  if ('sum' in signal) {
    const get = getter(signal.sum.property);
    return compileWindow(signal.sum, (records) => records.reduce((s, r) => s + (Number(get(r.props)) || 0), 0));
  }
  if ('usageDrop' in signal) {
    const { event, below } = signal.usageDrop;
    const windowMs = parseDuration(signal.usageDrop.window)!.ms;
    const baselineMs = parseDuration(signal.usageDrop.baseline)!.ms;
    return (ctx) => {
      let recent = 0;
      let base = 0;
      const windowStart = ctx.now - windowMs;
      const baseStart = windowStart - baselineMs;
      for (const r of ctx.history) {
        if (event === undefined ? !r.activity : r.name !== event) continue;
        if (r.at > windowStart && r.at <= ctx.now) recent++;
        else if (r.at > baseStart && r.at <= windowStart) base++;
      }
      return base > 0 && recent < below * base * (windowMs / baselineMs);
    };
  }
  if ('stage' in signal) {
    const { entered, left } = signal.stage;
    return (ctx) =>
      ctx.event?.type === 'StageChanged' &&
      (entered === undefined || ctx.event.props.to === entered) &&
      (left === undefined || ctx.event.props.from === left);
  }
  if ('inStage' in signal) {
    const stages = new Set<string | null>(Array.isArray(signal.inStage) ? signal.inStage : [signal.inStage]);
    return (ctx) => stages.has(ctx.stage);
  }
  if ('trait' in signal) {
    const { name, to } = signal.trait;
    const test = to === undefined ? TRUE_VALUE : compileFilter(to);
    return (ctx) => {
      const changed =
        ctx.event && (ctx.event.type === 'TraitsUpdated' || ctx.event.type === 'CustomerIdentified')
          ? (ctx.event.props.traits as Traits)
          : undefined;
      if (!changed || !(name in changed)) return false;
      const value = changed[name];
      return !sameValue(value, ctx.previousTraits[name]) && test(value, ctx.now);
    };
  }
  if ('traits' in signal) {
    const match = compileFilters(signal.traits);
    return (ctx) => match(ctx.traits, ctx.now);
  }
  if ('reply' in signal) {
    const match = compileReplyMatch(signal.reply);
    return (ctx) => ctx.event !== undefined && match(ctx.event);
  }
  if ('segment' in signal) {
    const { entered, left } = signal.segment;
    return (ctx) =>
      ctx.event !== undefined &&
      ((entered !== undefined && ctx.event.type === 'SegmentEntered' && ctx.event.props.segmentId === entered) ||
        (left !== undefined && ctx.event.type === 'SegmentLeft' && ctx.event.props.segmentId === left));
  }
  if ('inSegment' in signal) {
    const ids = Array.isArray(signal.inSegment) ? signal.inSegment : [signal.inSegment];
    return (ctx) => ctx.segments !== undefined && ids.some((id) => ctx.segments!.has(id));
  }
  if ('account' in signal) {
    const match = compileFilters(signal.account);
    return (ctx) => {
      for (const traits of Object.values(ctx.accountTraits ?? {})) if (match(traits, ctx.now)) return true;
      return false;
    };
  }
  throw new Error(`temporal signal ${Object.keys(signal)[0]} is only allowed in a trigger's entry`);
}

/** The words of a text, lower case, in order (letters, digits and inner apostrophes; `’` read as `'`). */
export function replyWords(text: string): string[] {
  return (text
    .toLowerCase()
    .replace(/\u2019/g, "'")
    .match(/[\p{L}\p{N}]+(?:'[\p{L}\p{N}]+)*/gu) ?? []) as string[];
}

/** A reply signal against one record: a CustomerReplied on the channel, with one of the words, with the sentiment. */
export function compileReplyMatch(reply: ReplySignal): (r: ActivityRecord) => boolean {
  const channels = reply.channel === undefined ? undefined : new Set(Array.isArray(reply.channel) ? reply.channel : [reply.channel]);
  const phrases =
    reply.contains === undefined
      ? undefined
      : (Array.isArray(reply.contains) ? reply.contains : [reply.contains]).map((p) => ` ${replyWords(p).join(' ')} `);
  const s = reply.sentiment;
  const sentiment =
    s === undefined
      ? undefined
      : (v: number) =>
          (s.lt === undefined || v < s.lt) &&
          (s.lte === undefined || v <= s.lte) &&
          (s.gt === undefined || v > s.gt) &&
          (s.gte === undefined || v >= s.gte);
  return (r) => {
    if (r.type !== 'CustomerReplied') return false;
    if (channels && !channels.has(r.props.channel as string)) return false;
    if (sentiment && (typeof r.props.sentiment !== 'number' || !sentiment(r.props.sentiment))) return false;
    if (phrases) {
      const text = ` ${replyWords(typeof r.props.body === 'string' ? r.props.body : '').join(' ')} `;
      if (!phrases.some((p) => text.includes(p))) return false;
    }
    return true;
  };
}

/** A compiled event signal against one record (used for the current event and for history scans). */
export function compileEventRecordMatch(signal: EventSignal): (r: ActivityRecord, now: number) => boolean {
  const name = signal.event;
  const where = signal.where ? compileFilters(signal.where) : undefined;
  return where ? (r, now) => r.name === name && where(r.props, now) : (r) => r.name === name;
}

function compileEventMatch(signal: EventSignal): Predicate {
  const match = compileEventRecordMatch(signal);
  return (ctx) => ctx.event !== undefined && match(ctx.event, ctx.now);
}

function compileWindow(agg: WindowAggregate, measure: (records: ActivityRecord[]) => number): Predicate {
  const match = compileEventRecordMatch(agg);
  const within = parseDuration(agg.within)!.ms;
  const tests: Array<(n: number) => boolean> = [];
  if (agg.lt !== undefined) tests.push((n) => n < agg.lt!);
  if (agg.lte !== undefined) tests.push((n) => n <= agg.lte!);
  if (agg.gt !== undefined) tests.push((n) => n > agg.gt!);
  if (agg.gte !== undefined) tests.push((n) => n >= agg.gte!);
  if (agg.eq !== undefined) tests.push((n) => n === agg.eq);
  return (ctx) => {
    const from = ctx.now - within;
    const n = measure(ctx.history.filter((r) => r.at > from && r.at <= ctx.now && match(r, ctx.now)));
    return tests.every((t) => t(n));
  };
}

function compileTemporal(signal: Signal): TemporalSignal | undefined {
  if ('absent' in signal) {
    const absent = compileEventRecordMatch(signal.absent);
    const reference = compileEventRecordMatch(signal.absent.after);
    const forMs = parseDuration(signal.absent.for)!.ms;
    const seenBefore = (ctx: EvalContext, dueAt: number) => ctx.history.some((r) => r.at < dueAt && absent(r, ctx.now));
    return {
      kind: 'absent',
      arm: (ctx, armed) => {
        if (armed || !ctx.event || !reference(ctx.event, ctx.now)) return undefined;
        const dueAt = ctx.event.at + forMs;
        return seenBefore(ctx, dueAt) ? undefined : dueAt;
      },
      cancels: (ctx, dueAt) => ctx.event !== undefined && ctx.event.at < dueAt && absent(ctx.event, ctx.now),
      holds: (ctx, _armedAt, dueAt) => !seenBefore(ctx, dueAt),
    };
  }
  if ('inactive' in signal) {
    const forMs = parseDuration(signal.inactive.for)!.ms;
    const lastActivity = (ctx: EvalContext) => {
      for (let i = ctx.history.length - 1; i >= 0; i--) if (ctx.history[i].activity) return ctx.history[i].at;
      return undefined;
    };
    // One timer per quiet spell, not one per activity: a pending timer is left alone by later activity (which only
    // moves the deadline on), and when it fires early it re-arms at the last activity + `for`.
    return {
      kind: 'inactive',
      arm: (ctx, armed) => {
        if (!ctx.event?.activity) return undefined;
        const dueAt = lastActivity(ctx)! + forMs;
        return armed && armed.dueAt <= dueAt ? undefined : dueAt;
      },
      cancels: () => false,
      holds: (ctx, _armedAt, dueAt) => (lastActivity(ctx) ?? -Infinity) + forMs <= dueAt,
      rearm: (ctx, dueAt) => {
        const next = (lastActivity(ctx) ?? -Infinity) + forMs;
        return next > dueAt ? next : undefined;
      },
    };
  }
  if ('date' in signal) {
    const { trait, event, property, at = '09:00' } = signal.date;
    const offset = parseDuration(signal.date.offset, true)!;
    const clock = parseClock(at)!;
    const get = property ? getter(property) : undefined;
    const dueFrom = (value: unknown, timeZone: string): number | undefined => {
      const d = localDate(value, timeZone);
      if (!d) return undefined;
      if (offset.days !== undefined) return zonedTime({ ...d, day: d.day + offset.days, hour: clock.hour, minute: clock.minute }, timeZone);
      return zonedTime({ ...d, hour: clock.hour, minute: clock.minute }, timeZone) + offset.ms;
    };
    const valueOf = (ctx: EvalContext): { value: unknown } | undefined => {
      const e = ctx.event;
      if (!e) return undefined;
      if (trait !== undefined) {
        const changed = e.type === 'TraitsUpdated' || e.type === 'CustomerIdentified' ? (e.props.traits as Traits) : undefined;
        return changed && trait in changed ? { value: changed[trait] } : undefined;
      }
      return e.name === event ? { value: get!(e.props) } : undefined;
    };
    return {
      kind: 'date',
      arm: (ctx, armed) => {
        const v = valueOf(ctx);
        if (!v) return undefined;
        const dueAt = dueFrom(v.value, ctx.timeZone);
        return dueAt === undefined || dueAt < ctx.now || dueAt === armed?.dueAt ? undefined : dueAt;
      },
      cancels: (ctx, dueAt) => {
        const v = valueOf(ctx);
        return v !== undefined && dueFrom(v.value, ctx.timeZone) !== dueAt;
      },
      holds: (ctx, _armedAt, dueAt) => trait === undefined || dueFrom(ctx.traits[trait], ctx.timeZone) === dueAt,
    };
  }
  return undefined;
}

/**
 * How far back decisions read a customer's history: conditions per record name (`Infinity`: all of it) and any
 * activity (usage drop without an event), frequency caps the messages scheduled (`messagesMs`). The latest activity
 * record is always read (inactivity). Records no decision can read any more may be dropped from a view (see
 * `pruneHistory`, `pruneView`).
 */
export interface HistoryNeeds {
  byName: Map<string, number>;
  activityMs: number;
  messagesMs: number;
}

export function emptyHistoryNeeds(): HistoryNeeds {
  return { byName: new Map(), activityMs: 0, messagesMs: 0 };
}

/** Adds what the signal reads from history to `needs`. */
export function addHistoryNeeds(needs: HistoryNeeds, signal: Signal): HistoryNeeds {
  const name = (event: string, ms: number) => needs.byName.set(event, Math.max(needs.byName.get(event) ?? 0, ms));
  if ('all' in signal) for (const s of signal.all) addHistoryNeeds(needs, s);
  else if ('any' in signal) for (const s of signal.any) addHistoryNeeds(needs, s);
  else if ('not' in signal) addHistoryNeeds(needs, signal.not);
  else if ('absent' in signal) name(signal.absent.event, Infinity);
  else if ('count' in signal) name(signal.count.event, parseDuration(signal.count.within)!.ms);
  else if ('sum' in signal) name(signal.sum.event, parseDuration(signal.sum.within)!.ms);
  else if ('usageDrop' in signal) {
    const ms = parseDuration(signal.usageDrop.window)!.ms + parseDuration(signal.usageDrop.baseline)!.ms;
    if (signal.usageDrop.event === undefined) needs.activityMs = Math.max(needs.activityMs, ms);
    else name(signal.usageDrop.event, ms);
  }
  return needs;
}

/** Adds `more` to `needs`. */
export function mergeHistoryNeeds(needs: HistoryNeeds, more: HistoryNeeds): HistoryNeeds {
  for (const [name, ms] of more.byName) needs.byName.set(name, Math.max(needs.byName.get(name) ?? 0, ms));
  needs.activityMs = Math.max(needs.activityMs, more.activityMs);
  needs.messagesMs = Math.max(needs.messagesMs, more.messagesMs);
  return needs;
}

/**
 * Whether `next` reads something a view pruned for `kept` may have dropped (a name kept shorter or not at all, a longer
 * activity or message window).
 */
export function historyNeedsExceed(next: HistoryNeeds, kept: HistoryNeeds): boolean {
  for (const [name, ms] of next.byName) if (ms > (kept.byName.get(name) ?? -Infinity)) return true;
  return next.activityMs > kept.activityMs || next.messagesMs > kept.messagesMs;
}

/** The records of `history` (ordered by time) that a condition with these needs can still read at `now` or later. */
export function pruneHistory(history: ActivityRecord[], needs: HistoryNeeds, now: number): ActivityRecord[] {
  let lastActivity = history.length - 1;
  while (lastActivity >= 0 && !history[lastActivity].activity) lastActivity--;
  return history.filter(
    (r, i) => i === lastActivity || now - r.at <= (needs.byName.get(r.name) ?? -Infinity) || (r.activity && now - r.at <= needs.activityMs),
  );
}

export type ValueTest = (value: unknown, now: number) => boolean;
const TRUE_VALUE: ValueTest = () => true;

/** Property filters -> one test on an object. */
export function compileFilters(filters: PropertyFilters): (obj: Properties, now: number) => boolean {
  const tests = Object.entries(filters).map(([path, f]) => {
    const get = getter(path);
    const test = compileFilter(f);
    return (obj: Properties, now: number) => test(get(obj), now);
  });
  return (obj, now) => {
    for (const t of tests) if (!t(obj, now)) return false;
    return true;
  };
}

/** One property filter -> a test on a value (what `compileFilters` runs per path; why-not explains with it). */
export function compileFilter(f: Scalar | FilterOps): ValueTest {
  if (f === null || typeof f !== 'object') return (v) => sameValue(v, f);
  const tests: ValueTest[] = [];
  if (f.equals !== undefined) tests.push((v) => sameValue(v, f.equals));
  if (f.notEquals !== undefined) tests.push((v) => !sameValue(v, f.notEquals));
  if (f.in) {
    const set = new Set(f.in);
    tests.push((v) => set.has(v as Scalar));
  }
  if (f.notIn) {
    const set = new Set(f.notIn);
    tests.push((v) => !set.has(v as Scalar));
  }
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN);
  if (f.gt !== undefined) tests.push((v) => num(v) > f.gt!);
  if (f.gte !== undefined) tests.push((v) => num(v) >= f.gte!);
  if (f.lt !== undefined) tests.push((v) => num(v) < f.lt!);
  if (f.lte !== undefined) tests.push((v) => num(v) <= f.lte!);
  if (f.before !== undefined) {
    const bound = dateBound(f.before);
    tests.push((v, now) => toTime(v) < bound(now));
  }
  if (f.after !== undefined) {
    const bound = dateBound(f.after);
    tests.push((v, now) => toTime(v) > bound(now));
  }
  if (f.exists !== undefined) tests.push((v) => (v !== undefined && v !== null) === f.exists);
  if (f.contains !== undefined) {
    const needle = f.contains;
    tests.push((v) => (Array.isArray(v) ? v.some((x) => sameValue(x, needle)) : typeof v === 'string' && v.includes(String(needle))));
  }
  return (v, now) => {
    for (const t of tests) if (!t(v, now)) return false;
    return true;
  };
}

/** `+90d` / `-7d` relative to now, or an absolute ISO date. */
function dateBound(text: string): (now: number) => number {
  const rel = parseDuration(text, true);
  if (rel) return (now) => now + rel.ms;
  const abs = dateValue(text) ?? NaN;
  return () => abs;
}

/** A value as a date (NaN when it is not one: every comparison is then false). */
function toTime(v: unknown): number {
  return dateValue(v) ?? NaN;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

/** A property path (dots for nesting) -> its value in an object. */
export function getter(path: string): (obj: Properties) => unknown {
  const parts = path.split('.');
  if (parts.length === 1) return (obj) => obj[path];
  return (obj) => {
    let cur: unknown = obj;
    for (const p of parts) {
      if (typeof cur !== 'object' || cur === null) return undefined;
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur;
  };
}
