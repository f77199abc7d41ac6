/**
 * Previews and test sends, pure: a customer's state as of a moment (their stream folded up to it, by event time, into
 * the trigger runtime's CustomerView), the step a preview names (a document path `steps[2].branch.then[0]` or the run
 * address `2.then.0` of TriggerRunStepEntered.step), what that step would send and the verdicts `checkGuards` would give
 * it then. Rendering is the messaging lib's (the dispatcher's renderer and scope); this module only says what to render.
 */
import { typed, type JourneyEvent, type Properties, type Traits } from '../events';
import { occurredTime } from '../event-time';
import type { ActivityRecord } from './conditions';
import { activityRecord, applyToView, customerTimeZone, emptyCustomerView, type CustomerView } from './customer';
import { checkGuards, type GuardOutcome, type QuietHours } from './guards';
import type { CompiledStep, CompiledTrigger } from './program';
import { forEachStep, type Signal, type Step } from './schema';
import { templateEventProperties } from './run';

/** Message ids of test sends start with this: every counter of messages (customer state, analytics) skips them. */
export const TEST_MESSAGE_PREFIX = 'test-';

/** Whether a message id is a test send's (see `TEST_MESSAGE_PREFIX`); MessageScheduled carries `test: true` as well. */
export function isTestMessageId(messageId: unknown): boolean {
  return typeof messageId === 'string' && messageId.startsWith(TEST_MESSAGE_PREFIX);
}

/** A document path (`steps[1]`, `steps[2].split.variants[0].steps[1]`) as the run address (`1`, `2.variants.0.1`). */
export function stepAddressOfPath(path: string): string | undefined {
  if (!/^steps\[\d+\]/.test(path)) return undefined;
  const address = path
    .replace(/^steps\[(\d+)\]/, '$1')
    .replace(/\.branch\.(then|else)\[(\d+)\]/g, '.$1.$2')
    .replace(/\.wait\.(onEvent|onTimeout)\[(\d+)\]/g, '.$1.$2')
    .replace(/\.split\.variants\[(\d+)\]\.steps\[(\d+)\]/g, '.variants.$1.$2');
  return /^\d+(\.(then|else|onEvent|onTimeout|variants\.\d+)\.\d+)*$/.test(address) ? address : undefined;
}

/** Every step of a definition: its run address, its document path and the step. */
export function stepsOf(steps: Step[]): Array<{ address: string; path: string; step: Step }> {
  const out: Array<{ address: string; path: string; step: Step }> = [];
  forEachStep(steps, (step, path) => out.push({ address: stepAddressOfPath(path)!, path, step }));
  return out;
}

/**
 * The step a preview names: a run address (`2.then.0`), a document path (`steps[2].branch.then[0]`) or a top-level
 * index (`1` or the number 1). Undefined when the trigger version has no such step.
 */
export function resolveStep(
  trigger: CompiledTrigger,
  step: string | number,
): { address: string; path: string; step: CompiledStep } | undefined {
  const text = String(step).trim();
  const address = /^\d+(\.|$)/.test(text) ? text : stepAddressOfPath(text);
  if (address === undefined) return undefined;
  const compiled = trigger.steps.get(address);
  if (!compiled) return undefined;
  const path = stepsOf(trigger.definition.steps).find((s) => s.address === address)?.path ?? address;
  return { address, path, step: compiled };
}

/** An event as an answer names it: id, name (a track's event name, else the type), when it happened. */
export interface EventRef {
  id: string;
  name: string;
  type: string;
  at: string;
}

export const eventRef = (r: Pick<ActivityRecord, 'id' | 'name' | 'type' | 'at'>): EventRef => ({
  id: r.id,
  name: r.name,
  type: r.type,
  at: new Date(r.at).toISOString(),
});

const records = new WeakMap<JourneyEvent, { record: ActivityRecord | undefined; at: number }>();

/**
 * An event's activity record and event time, computed once per event object (a stream kept between requests is folded
 * again at each one: its records are not made again).
 */
export function recordOf(event: JourneyEvent): { record: ActivityRecord | undefined; at: number } {
  let r = records.get(event);
  if (!r) records.set(event, (r = { record: activityRecord(event), at: occurredTime(event) }));
  return r;
}

/** A customer's state at a moment, for previews and why-not. */
export interface CustomerAsOf {
  view: CustomerView;
  /** The segments the customer is in (SegmentEntered not left), by id. */
  segments: Set<string>;
  /** Traits of each linked account (AccountLinked), by group id. */
  accountTraits: Record<string, Traits>;
  forgotten: boolean;
  /** The stream it was folded from (those of its events that happened by `asOf`, in log order). */
  events: readonly JourneyEvent[];
  asOf: number;
  /** Which event last set each trait (for "unsubscribed at ..."). */
  traitSetBy: Map<string, EventRef>;
}

/** Folds into a `CustomerAsOf` (mutates it): one event of the customer's stream, in log order. */
export function foldAsOf(state: CustomerAsOf, event: JourneyEvent, record = recordOf(event).record): void {
  const e = typed(event);
  switch (e.type) {
    case 'SegmentEntered':
      state.segments.add(e.data.segmentId);
      break;
    case 'SegmentLeft':
      state.segments.delete(e.data.segmentId);
      break;
    case 'AccountLinked':
      state.accountTraits[e.data.groupId] = { ...state.accountTraits[e.data.groupId], ...e.data.traits };
      break;
    case 'CustomerForgotten':
      state.forgotten = true;
      break;
    case 'CustomerIdentified':
    case 'TraitsUpdated':
      for (const name of Object.keys(e.data.traits ?? {}))
        state.traitSetBy.set(name, eventRef({ id: e.id, name: e.type, type: e.type, at: occurredTime(e) }));
      break;
    default:
      break;
  }
  applyToView(state.view, event, record);
}

export function emptyCustomerAsOf(events: readonly JourneyEvent[] = [], asOf = Infinity): CustomerAsOf {
  return { view: emptyCustomerView(), segments: new Set(), accountTraits: {}, forgotten: false, events, asOf, traitSetBy: new Map() };
}

/** The customer's stream (log order) folded up to `asOf` (ms, event time): what they looked like then. */
export function customerAsOf(events: readonly JourneyEvent[], asOf: number): CustomerAsOf {
  const state = emptyCustomerAsOf(events, asOf);
  for (const e of events) {
    const { record, at } = recordOf(e);
    if (at <= asOf) foldAsOf(state, e, record);
  }
  return state;
}

/** Event names a signal starts on (`event`, and those of `all`/`any`/`not` below it), for picking a preview's causing event. */
export function entryEventNames(signal: Signal, out = new Set<string>()): Set<string> {
  if ('event' in signal) out.add(signal.event);
  else if ('all' in signal) signal.all.forEach((s) => entryEventNames(s, out));
  else if ('any' in signal) signal.any.forEach((s) => entryEventNames(s, out));
  else if ('absent' in signal) out.add(signal.absent.after.event);
  return out;
}

/**
 * The event a preview renders `{{ event.* }}` from: the cause of the customer's latest run of the trigger (by then),
 * else their latest event the entry starts on, else none (an empty `event`).
 */
export function previewCause(trigger: CompiledTrigger, customer: CustomerAsOf): JourneyEvent | undefined {
  const names = entryEventNames(trigger.definition.entry);
  let cause: string | undefined;
  let latest: JourneyEvent | undefined;
  for (const event of customer.events) {
    if (recordOf(event).at > customer.asOf) continue;
    const e = typed(event);
    if (e.type === 'TriggerMatched' && e.data.triggerId === trigger.id) cause = e.data.causingEventId;
    else if (names.size > 0) {
      const r = recordOf(event).record;
      if (r && names.has(r.name)) latest = event;
    }
  }
  return (cause !== undefined ? customer.events.find((e) => e.id === cause && recordOf(e).at <= customer.asOf) : undefined) ?? latest;
}

/** What a preview renders, and the guards it would meet. */
export interface PreviewPlan {
  address: string;
  path: string;
  kind: CompiledStep['kind'];
  channel?: string;
  /** Liquid sources to render (a task's title is no template: shown as written). */
  template?: { subject?: string; body: string };
  request?: { url: string; method: string; headers: Record<string, string> };
  title?: string;
  to?: string;
  topic?: string;
  /** The scope the dispatcher would render with. */
  scope: { customer: { id: string; traits: Traits }; event: Properties };
  cause?: EventRef;
  /** A send's guard verdicts at `asOf` (consent, caps, priority, quiet hours); undefined for steps that have none. */
  guards?: GuardOutcome;
  timeZone: string;
  notes: string[];
}

/** Plans the preview of one step for a customer as of `asOf` (ms). */
export function planPreview(
  trigger: CompiledTrigger,
  resolved: { address: string; path: string; step: CompiledStep },
  customerId: string,
  customer: CustomerAsOf,
  asOf: number,
  /** The workspace's default quiet hours (its settings), for a trigger without its own. */
  workspaceQuietHours?: QuietHours,
): PreviewPlan {
  const { view } = customer;
  const cause = previewCause(trigger, customer);
  const record = cause ? activityRecord(cause) : undefined;
  const step = resolved.step;
  const timeZone = customerTimeZone(view);
  const plan: PreviewPlan = {
    address: resolved.address,
    path: resolved.path,
    kind: step.kind,
    scope: { customer: { id: customerId, traits: view.traits }, event: templateEventProperties(cause) },
    ...(record ? { cause: eventRef(record) } : {}),
    timeZone,
    notes: [],
  };
  if (!cause)
    plan.notes.push('no causing event: `event` is empty (the customer has no run of this trigger nor an event its entry starts on)');
  if (customer.forgotten) plan.notes.push('the customer is forgotten: the dispatcher would suppress this message (customer-forgotten)');
  switch (step.kind) {
    case 'send':
      plan.channel = step.channel;
      plan.template = { ...(step.subject !== undefined ? { subject: step.subject } : {}), body: step.body };
      if (step.to !== undefined) plan.to = step.to;
      if (step.topic !== undefined) plan.topic = step.topic;
      plan.guards = checkGuards(
        { triggerId: trigger.id, priority: trigger.priority, caps: trigger.caps, quietHours: trigger.quietHours },
        step,
        { now: asOf, traits: view.traits, timeZone, messages: view.messages, ...(workspaceQuietHours ? { workspaceQuietHours } : {}) },
      );
      break;
    case 'reply':
      plan.channel = 'inbox';
      plan.template = { body: step.body };
      plan.notes.push(
        "a reply is sent in the run's conversation, on its channel; conversation rules (held by a person, resolved) apply then",
      );
      break;
    case 'webhook':
      plan.channel = 'http';
      plan.template = { body: step.body };
      plan.request = { url: step.url, method: step.method, headers: step.headers };
      plan.notes.push('secrets are shown as placeholders, never their values');
      break;
    case 'task':
      plan.title = step.title;
      plan.notes.push('a task title is not a template: it is opened as written');
      break;
    default:
      break;
  }
  return plan;
}
