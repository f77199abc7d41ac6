/**
 * The customer side of the trigger runtime, pure: `applyToView` folds a customer's events into what triggers
 * need (traits, stage, time zone, ordered history, scheduled messages, one RunState per trigger), `decideOnView`
 * runs every trigger on one input (by priority), and `simulateCustomer` replays a history through them, firing
 * durable timers at their due time: the backtest, and the library tests, use exactly the reactor's decisions.
 */
import type { QuietHours } from './guards';
import type { ConversationChannel } from '../conversations/types';
import { ACTIVITY_TYPES, typed, type JourneyEvent, type Stage, type Traits, type TypedEvent } from '../events';
import { occurredTime } from '../event-time';
import { envelope } from '../envelope';
import { deterministicId } from '../ids';
import { emptyHistoryNeeds, mergeHistoryNeeds, pruneHistory, type ActivityRecord, type HistoryNeeds } from './conditions';
import type { CompiledTrigger, TriggerProgram } from './program';
import {
  decideRun,
  evolveRun,
  initialRunState,
  isSlotOf,
  runSlotId,
  TRIGGER_SOURCE,
  type IdFactory,
  type ReplyRenderer,
  type RunContext,
  type RunSlot,
  type RunState,
  type ScheduledMessage,
} from './run';
import { safeTimeZone } from './time';

/** Run bookkeeping: never an input to triggers (and never counted as activity). */
export const TRIGGER_BOOKKEEPING_TYPES: ReadonlySet<string> = new Set([
  'TriggerMatched',
  'TriggerRunStepEntered',
  'TriggerRunExited',
  'TimerScheduled',
  'TimerCancelled',
  'MessageScheduled',
  'MessageSuppressed',
  // a segment backfill's request to evaluate the customer (see segments/membership.ts): the segment reactor's input only
  'SegmentEvaluationRequested',
  'MessageShadowed',
]);

/** What the trigger runtime knows of one of the customer's conversations: where it happens, who holds it. */
export interface ConversationView {
  channel: ConversationChannel;
  /** Handed to a team or a member (ConversationAssigned) and not resolved since: automation does not answer in it. */
  held: boolean;
  /** Has a team or an assignee: reopened, it goes back to whoever held it (as in the conversation decider). */
  assigned: boolean;
  /** Ever handed to a team. */
  team?: boolean;
  resolved: boolean;
}

/** Conversations kept per view (the latest; older resolved ones are dropped first). */
const CONVERSATIONS_KEPT = 64;

export interface CustomerView {
  /** The customer's conversations by id (see `ConversationView`), oldest first. */
  conversations: Map<string, ConversationView>;
  /** The latest CustomerReplied folded: the run it starts or advances acts in its conversation. */
  lastReply?: { eventId: string; conversationId: string };
  traits: Traits;
  /** The latest Segment `context.timezone` of an identify or track call (a `timezone` trait wins over it). */
  contextTimeZone?: string;
  stage: Stage | null;
  history: ActivityRecord[];
  messages: ScheduledMessage[];
  /** What shadow runs would have sent (MessageShadowed, not suppressed): their own frequency caps count these. */
  shadowed: ScheduledMessage[];
  /** The run slots by slot id (`runSlotId`): the trigger's id for its customer run (unkeyed, live). */
  runs: Map<string, RunState>;
  /**
   * The other slots of each trigger (keyed, shadow), by trigger id: their slot ids, the least recently entered first.
   * At most `MAX_KEYED_RUNS` keyed slots per trigger and mode (live, shadow).
   */
  slots: Map<string, Set<string>>;
  /** timerId -> slot id of the pending trigger timers, to route TimerCancelled/TimerFired to their run. */
  timers: Map<string, string>;
  /** `pruneView` prunes when the history and messages reach this length. */
  pruneAt: number;
  /**
   * Causal depth (see `MAX_CAUSAL_DEPTH`) of the trigger-emitted inputs and fired timers folded lately (by event id), and
   * of the pending trigger timers (by timer id); only depths above 0, at most `DEPTHS_KEPT` of them.
   */
  depths: Map<string, number>;
  /** The segments the customer is in (SegmentEntered not yet left), for `inSegment`. */
  segments: Set<string>;
  /** The traits of the customer's accounts (AccountLinked, merged per group), for `account`. */
  accounts: Record<string, Traits>;
}

/**
 * A causal chain is cut at this depth. An event from outside (ingested, the stage reactor's) has depth 0; an input a
 * trigger emitted (`emit`, `set`, a task) while deciding on an input of depth d has depth d + 1; a fired timer has the
 * depth of the input that scheduled it (a run's waits do not deepen its chain). Derived from the causing event's
 * chain in the customer's stream (`metadata.causationId`), so a rebuilt view knows it too. An input of this depth
 * starts and advances no run: a run it would start or move on exits at once with reason `causal-depth`.
 */
export const MAX_CAUSAL_DEPTH = 8;

/**
 * Keyed runs kept per customer, trigger and mode (live, shadow). A new key's run starts only below it, or by dropping
 * the least recently entered key whose run is over (no active run, armed watch, deferred message or open task): a
 * flood of distinct keys cannot grow a view without bound. A dropped key is forgotten: its re-entry rule starts over.
 */
export const MAX_KEYED_RUNS = 50;

/** Depths kept per view: a trigger-emitted input is decided on right after its cause, so only the latest ones matter. */
const DEPTHS_KEPT = 256;

/**
 * A view is pruned when its history reaches this length, then again whenever it doubles (amortized O(1) per event).
 * Small: the live reactor keeps up to 10,000 customers, so this floor times that is the memory a workspace of many
 * quiet customers holds (at 64, a soak of 10,000 customers kept growing for ten minutes before the first prune).
 */
const PRUNE_FROM = 8;

export function emptyCustomerView(): CustomerView {
  return {
    conversations: new Map(),
    traits: {},
    stage: null,
    history: [],
    messages: [],
    shadowed: [],
    runs: new Map(),
    slots: new Map(),
    timers: new Map(),
    pruneAt: PRUNE_FROM,
    depths: new Map(),
    segments: new Set(),
    accounts: {},
  };
}

/** What deciding for these programs reads from a customer's history: the union of their needs (see `TriggerProgram.history`). */
export function historyNeeds(programs: readonly TriggerProgram[]): HistoryNeeds {
  return programs.reduce(
    (needs, p) => mergeHistoryNeeds(needs, p.enabled || p.shadow ? p.history : p.disabledHistory),
    emptyHistoryNeeds(),
  );
}

/**
 * Drops from the view what no decision with these needs can read at `now` or later (history records, messages older
 * than every frequency cap), once the view has grown to twice its size after the last pruning: a view stays bounded
 * by what the triggers read, not by how long the customer has been around.
 */
export function pruneView(view: CustomerView, needs: HistoryNeeds, now: number): void {
  if (view.history.length + view.messages.length + view.shadowed.length < view.pruneAt) return;
  view.history = pruneHistory(view.history, needs, now);
  if (view.messages.length > 0) view.messages = view.messages.filter((m) => now - m.at <= needs.messagesMs);
  if (view.shadowed.length > 0) view.shadowed = view.shadowed.filter((m) => now - m.at <= needs.messagesMs);
  view.pruneAt = Math.max(PRUNE_FROM, 2 * (view.history.length + view.messages.length + view.shadowed.length));
}

/**
 * Folds one event into the view (mutates it: a view is the private accumulator of one customer's decisions). `record`:
 * the event's `activityRecord`, when the caller has it already.
 */
export function applyToView(view: CustomerView, event: JourneyEvent, record = activityRecord(event)): void {
  const e = typed(event);
  // a merged id's traits (#12 copies) only fill in what the customer has no value for
  if (e.type === 'CustomerIdentified' || e.type === 'TraitsUpdated')
    view.traits = e.metadata.mergedFrom !== undefined ? { ...e.data.traits, ...view.traits } : { ...view.traits, ...e.data.traits };
  if (e.type === 'StageChanged') view.stage = e.data.to;
  if ((e.type === 'CustomerIdentified' || e.type === 'InteractionRecorded') && typeof e.data.context?.timezone === 'string')
    view.contextTimeZone = e.data.context.timezone;
  foldConversation(view, e);
  foldSegmentsAndAccounts(view, e);
  // a webhook step's request is no message to the customer: it counts against no frequency cap
  if (e.type === 'MessageScheduled' && !e.data.request && !e.data.test)
    view.messages.push({ messageId: e.data.messageId, channel: e.data.channel, triggerId: e.data.triggerId, at: occurredTime(e) });
  if (e.type === 'MessageSuppressed') view.messages = view.messages.filter((m) => m.messageId !== e.data.messageId);
  if (e.type === 'MessageShadowed' && !e.data.suppressed)
    view.shadowed.push({ messageId: e.data.messageId, channel: e.data.channel, triggerId: e.data.triggerId, at: occurredTime(e) });
  if (record) insertByTime(view.history, record);
  foldDepth(view, e);
  foldRuns(view, e);
}

/**
 * Folds an event into the run slot it concerns: run events and timers by their `key`/`shadow` (a timer's in its
 * payload), a task by the run that opened it, a message or an assignment into the trigger's slots (only the run it
 * names changes).
 */
function foldRuns(view: CustomerView, e: TypedEvent): void {
  switch (e.type) {
    case 'TriggerMatched':
    case 'TriggerRunStepEntered':
    case 'TriggerRunExited':
      return foldSlot(view, e.data.triggerId, e.data, e);
    case 'TimerScheduled': {
      if (!e.data.purpose.startsWith('trigger:')) return;
      const triggerId = e.data.purpose.slice('trigger:'.length);
      const p = e.data.payload;
      const slot: RunSlot =
        p === undefined || (p.key === undefined && p.shadow === undefined)
          ? NO_SLOT
          : { ...(typeof p.key === 'string' ? { key: p.key } : {}), ...(p.shadow === true ? { shadow: true } : {}) };
      view.timers.set(e.data.timerId, runSlotId(triggerId, slot));
      return foldSlot(view, triggerId, slot, e);
    }
    case 'TimerCancelled':
    case 'TimerFired': {
      const slotId = view.timers.get(e.data.timerId);
      if (slotId === undefined) return;
      view.timers.delete(e.data.timerId);
      return foldInto(view, slotId, e);
    }
    case 'CsmTaskOpened': {
      const { triggerId, step, triggerVersion } = e.data;
      if (triggerId === undefined || step === undefined) return;
      // opened right after its run entered the task step (a run never rests at a task step)
      const slotId = [...slotIdsOf(view, triggerId)].find((id) => {
        const a = view.runs.get(id)?.active;
        return a?.step === step && a.version === triggerVersion;
      });
      return foldInto(view, slotId ?? triggerId, e);
    }
    case 'CsmTaskClosed':
      for (const [slotId, run] of view.runs) if (e.data.taskId in run.tasks) return foldInto(view, slotId, e);
      return;
    case 'MessageScheduled':
    case 'ConversationAssigned':
    case 'MessageSuppressed': {
      const triggerId = e.data.triggerId;
      if (triggerId === undefined) return;
      const run = view.runs.get(triggerId);
      if (run) view.runs.set(triggerId, evolveRun(run, e));
      for (const slotId of view.slots.get(triggerId) ?? NO_SLOTS) foldInto(view, slotId, e);
      return;
    }
    default:
      return;
  }
}

/** Folds segment membership (SegmentEntered / SegmentLeft) and account traits (AccountLinked) into the view. */
function foldSegmentsAndAccounts(view: CustomerView, e: TypedEvent): void {
  if (e.type === 'SegmentEntered') view.segments.add(e.data.segmentId);
  else if (e.type === 'SegmentLeft') view.segments.delete(e.data.segmentId);
  else if (e.type === 'AccountLinked')
    view.accounts = { ...view.accounts, [e.data.groupId]: { ...view.accounts[e.data.groupId], ...e.data.traits } };
}

const NO_SLOT: RunSlot = Object.freeze({});
const NO_SLOTS: ReadonlySet<string> = new Set();

/** The trigger's slots in the view: its customer run's (when it has one), then the others (keyed, shadow). */
function* slotIdsOf(view: CustomerView, triggerId: string): Iterable<string> {
  if (view.runs.has(triggerId)) yield triggerId;
  yield* view.slots.get(triggerId) ?? [];
}

/** Folds into an existing slot (or the trigger's customer slot, created as before keyed runs). */
function foldInto(view: CustomerView, slotId: string, e: TypedEvent): void {
  const run = view.runs.get(slotId);
  if (run) view.runs.set(slotId, evolveRun(run, e));
  else if (!slotId.includes('\u001f')) view.runs.set(slotId, evolveRun(initialRunState(slotId), e));
}

/** Folds into a trigger's slot, creating it (and dropping the least recently entered finished key above the limit). */
function foldSlot(view: CustomerView, triggerId: string, slot: RunSlot, e: TypedEvent): void {
  const slotId = runSlotId(triggerId, slot);
  let run = view.runs.get(slotId);
  if (!run) {
    run = initialRunState(triggerId, slot);
    if (slotId !== triggerId) addSlot(view, triggerId, slotId, run);
  } else if (e.type === 'TriggerMatched' && slot.key !== undefined) {
    const group = view.slots.get(triggerId);
    group?.delete(slotId);
    group?.add(slotId);
  }
  run = evolveRun(run, e);
  // a run started or advanced by a reply acts in the reply's conversation
  const reply = view.lastReply;
  if (
    (e.type === 'TriggerMatched' || e.type === 'TriggerRunStepEntered') &&
    reply &&
    e.metadata.causationId === reply.eventId &&
    run.active?.runId === e.data.runId &&
    run.active.conversationId !== reply.conversationId
  )
    run = { ...run, active: { ...run.active, conversationId: reply.conversationId } };
  view.runs.set(slotId, run);
}

function addSlot(view: CustomerView, triggerId: string, slotId: string, run: RunState): void {
  let group = view.slots.get(triggerId);
  if (!group) view.slots.set(triggerId, (group = new Set()));
  group.add(slotId);
  if (run.key === undefined) return;
  const keyed = [...group].filter((id) => {
    const r = view.runs.get(id);
    return r && r.key !== undefined && r.shadow === run.shadow;
  });
  for (let i = 0, over = keyed.length + 1 - MAX_KEYED_RUNS; i < keyed.length && over > 0; i++) {
    if (busy(view.runs.get(keyed[i])!)) continue;
    group.delete(keyed[i]);
    view.runs.delete(keyed[i]);
    over--;
  }
}

/** A slot with something pending: an active run, an armed entry watch, a deferred message, an open task. */
function busy(run: RunState): boolean {
  if (run.active || run.armed || run.deferred) return true;
  for (const _task in run.tasks) return true;
  return false;
}

/** Whether a new key's slot fits (below the limit, or a finished key can be dropped for it). */
function roomForKey(view: CustomerView, group: Set<string> | undefined, shadow: boolean): boolean {
  let n = 0;
  let idle = false;
  for (const id of group ?? []) {
    const r = view.runs.get(id);
    if (!r || r.key === undefined || (r.shadow === true) !== shadow) continue;
    n++;
    if (!idle && !busy(r)) idle = true;
  }
  return n < MAX_KEYED_RUNS || idle;
}

/**
 * The run slots a program decides on an input, as they stood before it. A fired timer: its slot only. Another input:
 * the customer's slot (when it has a run, or the trigger is unkeyed), each keyed slot the event concerns (an event of
 * its key; one without the key, when the slot has something pending), a new key's slot when the event carries a key no
 * slot has yet (and there is room), then the same in shadow.
 */
function slotsToDecide(view: CustomerView, p: TriggerProgram, input: JourneyEvent, record: ActivityRecord | undefined): RunState[] {
  const group = view.slots.get(p.id);
  const single = view.runs.get(p.id);
  if (input.type === 'TimerFired') {
    const slotId = view.timers.get(String(input.data.timerId));
    const run = slotId !== undefined && isSlotOf(slotId, p.id) ? view.runs.get(slotId) : undefined;
    return run ? [run] : [];
  }
  const live: RunState[] = [];
  const shadow: RunState[] = [];
  if (single || !p.latest.key) live.push(single ?? initialRunState(p.id));
  let shadowSlot = false;
  for (const slotId of group ?? []) {
    const run = view.runs.get(slotId)!;
    const to = run.shadow ? shadow : live;
    if (run.key === undefined) {
      shadowSlot ||= run.shadow === true;
      to.push(run);
      continue;
    }
    const key = (p.version(run.active?.version ?? 0) ?? (run.shadow ? p.shadow : p.latest))?.key?.of(record);
    if (key === undefined ? busy(run) : key === run.key) to.push(run);
  }
  const newKey = (t: CompiledTrigger, mode: boolean, to: RunState[]) => {
    const key = t.key!.of(record);
    if (key !== undefined && !view.runs.has(runSlotId(p.id, { key, shadow: mode })) && roomForKey(view, group, mode))
      to.push(initialRunState(p.id, { key, ...(mode ? { shadow: true } : {}) }));
  };
  if (p.enabled && p.latest.key) newKey(p.latest, false, live);
  if (p.shadow?.key) newKey(p.shadow, true, shadow);
  else if (p.shadow && !shadowSlot) shadow.push(initialRunState(p.id, { shadow: true }));
  return shadow.length ? [...live, ...shadow] : live;
}

/**
 * A shadow run's context: its frequency caps count what it would have sent in place of the live version (the customer's
 * other messages and its own shadowed ones), never the live version's messages.
 */
function shadowContext(view: CustomerView, ctx: RunContext, triggerId: string): RunContext {
  return {
    ...ctx,
    messages: [...view.messages.filter((m) => m.triggerId !== triggerId), ...view.shadowed.filter((m) => m.triggerId === triggerId)],
  };
}

/** Folds a conversation event into the view's conversations (see `ConversationView`). */
function foldConversation(view: CustomerView, e: TypedEvent): void {
  const { conversations } = view;
  const set = (id: string, c: ConversationView) => {
    conversations.delete(id);
    conversations.set(id, c);
    if (conversations.size > CONVERSATIONS_KEPT) {
      const oldest = [...conversations].find(([, v]) => v.resolved)?.[0] ?? conversations.keys().next().value!;
      conversations.delete(oldest);
    }
  };
  switch (e.type) {
    case 'ConversationStarted':
      if (!conversations.has(e.data.conversationId))
        set(e.data.conversationId, { channel: e.data.channel, held: false, assigned: false, resolved: false });
      return;
    case 'CustomerReplied': {
      const c = conversations.get(e.data.conversationId);
      set(e.data.conversationId, c ?? { channel: e.data.channel, held: false, assigned: false, resolved: false });
      view.lastReply = { eventId: e.id, conversationId: e.data.conversationId };
      return;
    }
    case 'ConversationAssigned': {
      const c = conversations.get(e.data.conversationId);
      // as the conversation decider: reopened, it is held again when it has a team or an assignee
      if (c)
        conversations.set(e.data.conversationId, {
          ...c,
          held: true,
          assigned: c.team === true || e.data.team !== undefined || e.data.assignee !== undefined,
          team: c.team === true || e.data.team !== undefined,
        });
      return;
    }
    case 'ConversationResolved': {
      const c = conversations.get(e.data.conversationId);
      if (c) conversations.set(e.data.conversationId, { ...c, held: false, resolved: true });
      return;
    }
    case 'ConversationReopened': {
      const c = conversations.get(e.data.conversationId);
      if (c) conversations.set(e.data.conversationId, { ...c, resolved: false, held: c.held || c.assigned });
      return;
    }
    case 'CustomerForgotten':
      conversations.clear();
      view.lastReply = undefined;
      return;
    default:
      return;
  }
}

/** Records the causal depth of `e` in the view (see `MAX_CAUSAL_DEPTH`). */
function foldDepth(view: CustomerView, e: TypedEvent): void {
  const { depths } = view;
  let depth = 0;
  if (e.type === 'TimerFired' || e.type === 'TimerCancelled') {
    depth = depths.get(e.data.timerId) ?? 0;
    depths.delete(e.data.timerId);
    if (e.type === 'TimerCancelled') return;
  } else if (e.metadata.source === TRIGGER_SOURCE) {
    const cause = depths.get(e.metadata.causationId ?? '') ?? 0;
    if (e.type === 'TimerScheduled') depth = cause;
    else if (!TRIGGER_BOOKKEEPING_TYPES.has(e.type)) depth = cause + 1;
  }
  if (depth === 0) return;
  depths.set(e.type === 'TimerScheduled' ? e.data.timerId : e.id, depth);
  if (depths.size > DEPTHS_KEPT) depths.delete(depths.keys().next().value as string);
}

/** How conditions see an event; undefined for bookkeeping and timers. */
export function activityRecord(e: JourneyEvent): ActivityRecord | undefined {
  if (TRIGGER_BOOKKEEPING_TYPES.has(e.type) || e.type === 'TimerFired') return undefined;
  const t = typed(e);
  let name: string = e.type;
  let props = e.data;
  if (t.type === 'InteractionRecorded') {
    name = t.data.event;
    props = t.data.properties;
  }
  if (t.type === 'PageViewed') {
    name = t.data.kind === 'screen' ? 'Screen Viewed' : 'Page Viewed';
    props = { name: t.data.name, category: t.data.category, ...t.data.properties };
  }
  const at = occurredTime(e);
  return { id: e.id, name, type: e.type, at, props, activity: ACTIVITY_TYPES.has(e.type) && e.metadata.source !== TRIGGER_SOURCE };
}

function insertByTime(history: ActivityRecord[], r: ActivityRecord): void {
  let i = history.length;
  while (i > 0 && history[i - 1].at > r.at) i--;
  history.splice(i, 0, r);
}

/**
 * Runs every program on one input, against `view` (the customer's history before the input, with the effects of
 * earlier decisions). Higher priority first; a send of a lower-priority trigger on the same input is suppressed
 * (`priority`). Folds the input and the decided events into `view`, so callers keep one view per customer and never
 * re-fold the stream. `inputFolded`: the view already holds the input (an event a trigger emitted, folded with the
 * decision that emitted it, now decided on in its turn).
 */
export function decideOnView(
  programs: readonly TriggerProgram[],
  view: CustomerView,
  input: JourneyEvent,
  now: Date,
  ids?: IdFactory,
  inputFolded = false,
  renderReply?: ReplyRenderer,
  workspaceQuietHours?: QuietHours,
): JourneyEvent[] {
  if (TRIGGER_BOOKKEEPING_TYPES.has(input.type)) {
    if (!inputFolded) applyToView(view, input);
    return [];
  }
  const previousTraits = view.traits;
  const ordered = byPriority(programs);
  const record = activityRecord(input);
  // Runs as they stood before the input (a TimerFired folded in would already clear the timer it answers).
  const runs = ordered.map((p) =>
    // the customer's run alone (unkeyed, no shadow): as before keyed runs, without the routing
    !p.shadow && !p.latest.key && !view.slots.has(p.id)
      ? (view.runs.get(p.id) ?? initialRunState(p.id))
      : slotsToDecide(view, p, input, record),
  );
  if (!inputFolded) applyToView(view, input, record);
  const ctx: RunContext = {
    workspaceId: input.metadata.workspaceId,
    customerId: input.metadata.customerId,
    now: now.getTime(),
    event: record,
    traits: view.traits,
    previousTraits,
    stage: view.stage,
    history: view.history,
    timeZone: customerTimeZone(view),
    segments: view.segments,
    accountTraits: view.accounts,
    messages: view.messages,
    conversations: view.conversations,
    ids,
    renderReply,
    tooDeep: depthOf(view, input) >= MAX_CAUSAL_DEPTH,
    ...(workspaceQuietHours ? { workspaceQuietHours } : {}),
  };
  const out: JourneyEvent[] = [];
  for (let i = 0; i < ordered.length; i++) {
    const program = ordered[i];
    const slots = runs[i];
    if (!Array.isArray(slots)) decideSlot(program, slots, input, ctx, view, out);
    else for (const run of slots) decideSlot(program, run, input, ctx, view, out);
  }
  return out;
}

/** One slot's decision on the input, folded into the view; a live send claims the input against lower priorities. */
function decideSlot(
  program: TriggerProgram,
  run: RunState,
  input: JourneyEvent,
  ctx: RunContext,
  view: CustomerView,
  out: JourneyEvent[],
): void {
  // a shadow run never claims the input (it sends nothing): MessageShadowed is no claim
  const events = decideRun(program, run, input, run.shadow ? shadowContext(view, ctx, program.id) : ctx);
  for (const e of events) applyToView(view, e);
  if (!ctx.claim && events.some(claimsTheInput)) ctx.claim = { triggerId: program.id, priority: program.latest.priority };
  out.push(...events);
}

/** A message to the customer (a send, an automated reply; not a webhook step's request): lower priorities' are suppressed. */
function claimsTheInput(e: JourneyEvent): boolean {
  const t = typed(e);
  return (t.type === 'MessageScheduled' && !t.data.request) || t.type === 'AgentReplied';
}

/** The customer's time zone: the `timezone` (or `timeZone`) trait, else Segment's `context.timezone`, else UTC. */
export function customerTimeZone(view: CustomerView): string {
  return safeTimeZone(view.traits.timezone ?? view.traits.timeZone ?? view.contextTimeZone);
}

/** The causal depth of an input already folded into the view. */
export function depthOf(view: CustomerView, input: JourneyEvent): number {
  return view.depths.get(input.id) ?? 0;
}

const sortedPrograms = new WeakMap<readonly TriggerProgram[], TriggerProgram[]>();

/** Higher priority first, then by id (sorted once per array of programs). */
function byPriority(programs: readonly TriggerProgram[]): TriggerProgram[] {
  let sorted = sortedPrograms.get(programs);
  if (!sorted)
    sortedPrograms.set(
      programs,
      (sorted = [...programs].sort((a, b) => b.latest.priority - a.latest.priority || a.id.localeCompare(b.id))),
    );
  return sorted;
}

export interface SimulationOptions {
  /** Keep every history record (no pruning to what the programs read). */
  keepHistory?: boolean;
  /** Renders `reply` bodies (Liquid): `replyRenderer()` from @journey/messaging, as the reactor and the backtest do. */
  renderReply?: ReplyRenderer;
  /** The workspace's default quiet hours (its settings), as the reactor applies them to triggers without their own. */
  workspaceQuietHours?: QuietHours;
}

export interface SimulationResult {
  /** The customer's stream as it would be: inputs, fired timers and every decided event, in order. */
  stream: JourneyEvent[];
  /** Only the decided events (what the reactor would have appended). */
  decided: JourneyEvent[];
}

/**
 * Replays a customer's events (in arrival order; `recordedAt` is when each arrived) through the triggers. Timers fire
 * at their due time (a TimerFired with the TimerScheduler's id), in time order between the inputs, then up to `until`.
 * Events the triggers emit that are inputs themselves (stage, traits, custom events) are fed back, as the log would.
 */
export function simulateCustomer(
  programs: readonly TriggerProgram[],
  inputs: readonly JourneyEvent[],
  until?: Date,
  options: SimulationOptions = {},
): SimulationResult {
  const stream: JourneyEvent[] = [];
  const decided: JourneyEvent[] = [];
  const sim = new CustomerSimulation(
    programs,
    (input, effects) => {
      stream.push(input, ...effects);
      decided.push(...effects);
    },
    deterministicId,
    options,
  );
  for (const input of inputs) sim.input(input);
  sim.fireDue(until ? until.getTime() + 1 : Infinity, !until);
  return { stream, decided };
}

/**
 * One customer's replay, incremental: feed events in arrival order with `input` (or `prior` for history that is only
 * context, never decided on), then `fireDue` up to the end. `observe` sees every input (including fired timers and
 * fed-back effects) with the events decided on it. Keeps one view, so a replay costs O(events), not O(events²).
 */
export class CustomerSimulation {
  private readonly view = emptyCustomerView();
  /** What the programs read from history: older records are dropped as the replay moves on (bounded memory). */
  private readonly needs?: HistoryNeeds;
  /** Pending timers with the time each fires at. */
  private readonly timers = new Map<string, { scheduled: TypedEvent<'TimerScheduled'>; at: number }>();
  /** Effects that are inputs themselves (stage, traits, custom events, tasks), to decide on in their turn (from `nextEffect`). */
  private readonly effects: Array<{ event: JourneyEvent; at: number }> = [];
  private nextEffect = 0;

  constructor(
    private readonly programs: readonly TriggerProgram[],
    private readonly observe: (input: JourneyEvent, decided: JourneyEvent[]) => void = () => undefined,
    private readonly ids: IdFactory = deterministicId,
    options: SimulationOptions = {},
  ) {
    if (!options.keepHistory) this.needs = historyNeeds(programs);
    this.renderReply = options.renderReply;
    this.workspaceQuietHours = options.workspaceQuietHours;
  }

  private readonly renderReply?: ReplyRenderer;
  private readonly workspaceQuietHours?: QuietHours;

  /** Folds an event into the customer's view without deciding on it (history before the replayed range). */
  prior(event: JourneyEvent): void {
    applyToView(this.view, event);
  }

  /**
   * An event as it arrived (`recordedAt`, or `arrived` in ms when the caller parsed it): decides, in time order, the
   * timers due and the fed-back effects decided before then, then decides on it. As live, where a decision's effects
   * and the TimerScheduler's TimerFired are appended after the events already in the log: an effect decided at the
   * very time the event arrived (on an event of the same batch), a timer due then or scheduled already overdue, comes
   * after it.
   */
  input(event: JourneyEvent, arrived = Date.parse(event.metadata.recordedAt)): void {
    this.fireDue(arrived);
    this.process(event, arrived);
  }

  /**
   * Decides everything due before `before` (ms): the fed-back effects in the order they were decided (each at the time
   * it was decided), and the timers in due order (a timer scheduled already past due fires at the time it was
   * scheduled); at the same time, effects first. `effectsOnly`: no timer fires.
   */
  fireDue(before: number, effectsOnly = false): void {
    for (;;) {
      let next: { scheduled: TypedEvent<'TimerScheduled'>; at: number } | undefined;
      for (const t of this.timers.values()) if (!next || t.at < next.at) next = t;
      const effect = this.effects[this.nextEffect];
      if (effect && effect.at < before && (!next || effect.at <= next.at)) {
        this.effects[this.nextEffect++] = undefined!;
        if (this.nextEffect === this.effects.length) this.effects.length = this.nextEffect = 0;
        this.process(effect.event, effect.at, true);
        continue;
      }
      if (!next || next.at >= before || effectsOnly) return;
      this.timers.delete(next.scheduled.data.timerId);
      this.process(timerFired(next.scheduled, next.at, this.ids), next.at);
    }
  }

  /** `folded`: an effect, folded into the view with the decision that made it, decided on in its turn (as live). */
  private process(input: JourneyEvent, now: number, folded = false): void {
    const effects = decideOnView(
      this.programs,
      this.view,
      input,
      new Date(now),
      this.ids,
      folded,
      this.renderReply,
      this.workspaceQuietHours,
    );
    if (this.needs) pruneView(this.view, this.needs, now);
    this.observe(input, effects);
    for (const effect of effects) {
      const e = typed(effect);
      if (e.type === 'TimerScheduled')
        this.timers.set(e.data.timerId, { scheduled: e, at: Math.max(Date.parse(e.data.dueAt), occurredTime(e)) });
      if (e.type === 'TimerCancelled') this.timers.delete(e.data.timerId);
      if (!TRIGGER_BOOKKEEPING_TYPES.has(e.type)) this.effects.push({ event: e, at: now });
    }
  }
}

/** The TimerFired the TimerScheduler appends for a due timer (fired at `at`). */
export function timerFired(scheduled: TypedEvent<'TimerScheduled'>, at: number, ids: IdFactory = deterministicId): JourneyEvent {
  const { timerId, purpose, payload } = scheduled.data;
  const firedAt = new Date(at).toISOString();
  const { workspaceId, customerId } = scheduled.metadata;
  return envelope({
    id: ids('timer-fired', timerId),
    type: 'TimerFired',
    data: { timerId, purpose, ...(payload ? { payload } : {}) },
    workspaceId,
    customerId,
    occurredAt: firedAt,
    recordedAt: firedAt,
    cause: scheduled,
    source: 'timer',
  });
}
