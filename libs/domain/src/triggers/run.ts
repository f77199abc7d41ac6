/**
 * A customer's run through a trigger, event-sourced in the customer's stream: `evolveRun` rebuilds its state from
 * TriggerMatched / TriggerRunStepEntered / TimerScheduled / TimerCancelled / TimerFired / CsmTaskOpened|Closed /
 * TriggerRunExited, and `decideRun` answers an input (an event of the customer, or a TimerFired of this trigger)
 * with events. Every event id is deterministic (trigger version + customer + causing event + step), so replays are
 * no-ops; no clock and no I/O, so a backtest replays history through the very same function.
 *
 * A RunState is one run slot of a trigger (see `RunSlot`): the customer's run, or with `key` one key's run of a keyed
 * trigger, or with `shadow` the run of the trigger's shadow version, which decides as a live run does but sends
 * nothing (its sends are MessageShadowed; its other effects are only the steps it enters).
 */
import { createHash } from 'node:crypto';
import { occurredTime } from '../event-time';
import { typed, type EventDataByType, type EventType, type GuardVerdict, type JourneyEvent, type Properties, type Traits } from '../events';
import { envelope } from '../envelope';
import { deterministicId } from '../ids';
import type { ActivityRecord, EvalContext } from './conditions';
import type { ConversationView } from './customer';
import { END, type CompiledKey, type CompiledStep, type CompiledTrigger, type TriggerProgram } from './program';
import { checkGuards, type QuietHours } from './guards';
import { isoTime } from './time';

/** `metadata.source` of every event the trigger runtime writes. */
export const TRIGGER_SOURCE = 'reactor:triggers';

export interface RunState {
  triggerId: string;
  /** Keyed triggers: this slot's key (a value of the entry event's key property); its runs carry it. */
  key?: string;
  /** The shadow version's slot: its runs decide beside the live ones, never send, and carry `shadow: true`. */
  shadow?: boolean;
  /** How many runs started (for re-entry rules) and when the last one did. */
  entries: number;
  lastEnteredAt?: number;
  /** A temporal entry waiting for its timer (absence, inactivity, date). */
  armed?: { timerId: string; dueAt: number; armedAt: number };
  active?: {
    runId: string;
    version: number;
    step: string;
    wait?: { timerId: string; dueAt: number };
    watch?: Watch;
    /** The run's conversation: of the reply that started or last advanced it, or the one its handoff started. */
    conversationId?: string;
  };
  /** The entry watch whose timer fired last (by the TimerFired's event id): the window of the run it starts. */
  fired?: Watch & { eventId: string };
  /** Messages of runs a temporal entry started, deferred by quiet hours and not due yet: a late event may make them wrong. */
  deferred?: Record<string, DeferredMessage>;
  /** Open CSM tasks this trigger opened, with the step whose `closeOn` closes them. */
  tasks: Record<string, { version: number; step: string }>;
}

/** An entry watch: armed at `armedAt`, due at `dueAt` (ms). */
export interface Watch {
  armedAt: number;
  dueAt: number;
}

export interface DeferredMessage extends Watch {
  channel: string;
  notBefore: number;
  runId: string;
  step: string;
  version: number;
}

/** Which run slot of a trigger: the customer's (neither), a key's, the shadow version's, a key's in shadow. */
export interface RunSlot {
  key?: string;
  shadow?: boolean;
}

export function initialRunState(triggerId: string, slot?: RunSlot): RunState {
  if (slot === undefined || (slot.key === undefined && !slot.shadow)) return { triggerId, entries: 0, tasks: {} };
  return {
    triggerId,
    ...(slot.key !== undefined ? { key: slot.key } : {}),
    ...(slot.shadow ? { shadow: true } : {}),
    entries: 0,
    tasks: {},
  };
}

/** The id of a run slot in a customer's view: the trigger's id for its customer run, else with the shadow mark and the key. */
export function runSlotId(triggerId: string, slot: RunSlot = {}): string {
  if (slot.key === undefined && !slot.shadow) return triggerId;
  return `${triggerId}\u001f${slot.shadow ? 'shadow' : 'live'}\u001f${slot.key ?? ''}`;
}

/** Whether a slot id (see `runSlotId`) is one of the trigger's. */
export function isSlotOf(slotId: string, triggerId: string): boolean {
  return slotId === triggerId || (slotId.startsWith(triggerId) && slotId.charCodeAt(triggerId.length) === 0x1f);
}

/** How a slot marks its run events (TriggerMatched, steps, exits) and timers' payloads: `key`, `shadow`. */
function slotMark(state: RunSlot): RunSlot {
  if (state.key === undefined) return state.shadow ? SHADOW_MARK : NO_MARK;
  return state.shadow ? { key: state.key, shadow: true } : { key: state.key };
}
const NO_MARK: RunSlot = Object.freeze({});
const SHADOW_MARK: RunSlot = Object.freeze({ shadow: true });
const NO_PARTS: readonly string[] = Object.freeze([]);

/** Steps a shadow run does not execute: it only records that it entered them (TriggerRunStepEntered). */
const SHADOW_SKIPS: ReadonlySet<CompiledStep['kind']> = new Set(['task', 'set', 'emit', 'reply', 'tag', 'handoff', 'resolve', 'webhook']);

/**
 * The context a keyed run decides in: the customer's history without the events of other keys (those carrying the
 * key property with another value), filtered once, when a condition first reads it.
 */
function keyedContext(ctx: RunContext, key: CompiledKey, value: string): RunContext {
  let history: readonly ActivityRecord[] | undefined;
  return Object.create(ctx, {
    history: {
      get: () =>
        (history ??= ctx.history.filter((r) => {
          const k = key.of(r);
          return k === undefined || k === value;
        })),
    },
  }) as RunContext;
}

export const timerPurpose = (triggerId: string) => `trigger:${triggerId}`;

/** Applies one event that concerns this trigger (see `runEventTriggerId` for routing). */
export function evolveRun(state: RunState, event: JourneyEvent): RunState {
  const e = typed(event);
  const at = occurredTime(e);
  if (state.deferred && Object.values(state.deferred).some((d) => d.notBefore <= at))
    state = { ...state, deferred: pending(state.deferred, (d) => d.notBefore > at) };
  switch (e.type) {
    case 'TriggerMatched': {
      const watch =
        state.fired?.eventId === e.metadata.causationId ? { armedAt: state.fired!.armedAt, dueAt: state.fired!.dueAt } : undefined;
      const active = { runId: e.data.runId, version: e.data.version, step: '', ...(watch ? { watch } : {}) };
      return { ...state, entries: state.entries + 1, lastEnteredAt: at, armed: undefined, fired: undefined, active };
    }
    case 'MessageScheduled': {
      const { active } = state;
      if (!active?.watch || e.data.runId !== active.runId || !e.data.notBefore) return state;
      const d: DeferredMessage = {
        ...active.watch,
        channel: e.data.channel,
        notBefore: Date.parse(e.data.notBefore),
        runId: active.runId,
        step: e.data.step ?? '',
        version: active.version,
      };
      return { ...state, deferred: { ...state.deferred, [e.data.messageId]: d } };
    }
    case 'MessageSuppressed':
      return state.deferred?.[e.data.messageId]
        ? { ...state, deferred: pending(state.deferred, (_d, id) => id !== e.data.messageId) }
        : state;
    case 'TriggerRunStepEntered':
      return state.active?.runId === e.data.runId ? { ...state, active: { ...state.active, step: e.data.step, wait: undefined } } : state;
    case 'TriggerRunExited':
      return state.active?.runId === e.data.runId ? { ...state, active: undefined } : state;
    case 'TimerScheduled': {
      const p = e.data.payload ?? {};
      const dueAt = Date.parse(e.data.dueAt);
      if (p.kind === 'entry') return { ...state, armed: { timerId: e.data.timerId, dueAt, armedAt: Number(p.armedAt) } };
      if (state.active && p.runId === state.active.runId)
        return { ...state, active: { ...state.active, wait: { timerId: e.data.timerId, dueAt } } };
      return state;
    }
    case 'TimerCancelled':
    case 'TimerFired': {
      const id = e.data.timerId;
      if (state.armed?.timerId === id && e.type === 'TimerFired')
        return { ...state, armed: undefined, fired: { eventId: e.id, armedAt: state.armed.armedAt, dueAt: state.armed.dueAt } };
      if (state.armed?.timerId === id) return { ...state, armed: undefined };
      if (state.active?.wait?.timerId === id) return { ...state, active: { ...state.active, wait: undefined } };
      return state;
    }
    case 'ConversationAssigned':
      return state.active && e.data.runId === state.active.runId && state.active.conversationId !== e.data.conversationId
        ? { ...state, active: { ...state.active, conversationId: e.data.conversationId } }
        : state;
    case 'CsmTaskOpened':
      return e.data.step === undefined
        ? state
        : { ...state, tasks: { ...state.tasks, [e.data.taskId]: { version: e.data.triggerVersion ?? 0, step: e.data.step } } };
    case 'CsmTaskClosed': {
      if (!(e.data.taskId in state.tasks)) return state;
      const { [e.data.taskId]: _closed, ...tasks } = state.tasks;
      return { ...state, tasks };
    }
    default:
      return state;
  }
}

function pending(
  deferred: Record<string, DeferredMessage>,
  keep: (d: DeferredMessage, messageId: string) => boolean,
): Record<string, DeferredMessage> | undefined {
  const left = Object.entries(deferred).filter(([id, d]) => keep(d, id));
  return left.length ? Object.fromEntries(left) : undefined;
}

/** A message already scheduled for the customer (for frequency caps). */
export interface ScheduledMessage {
  messageId: string;
  channel: string;
  triggerId?: string;
  at: number;
}

/** What a run decision sees of the customer, beyond the conditions' context. */
export interface RunContext extends EvalContext {
  workspaceId: string;
  customerId: string;
  messages: ScheduledMessage[];
  /** The customer's conversations (who holds them), for the conversation steps. */
  conversations?: ReadonlyMap<string, ConversationView>;
  /** A higher-or-equal-priority trigger that already scheduled a message for this same input. */
  claim?: { triggerId: string; priority: number };
  /** The input is too deep in a causal chain (see `MAX_CAUSAL_DEPTH`): runs it would start or move on exit with reason `causal-depth`. */
  tooDeep?: boolean;
  /** Makes the ids of decided events from their parts (default `deterministicId`; a backtest stores nothing and may use a cheaper one). */
  ids?: IdFactory;
  /**
   * Renders a `reply` step's body (a Liquid template, as a send's): the messaging lib's bounded renderer, synchronous
   * (`replyRenderer` in @journey/messaging), injected by the trigger reactor, the backtest and the simulations. Without
   * one, a body without markup is written as is and one with markup is suppressed (`template-error`).
   */
  renderReply?: ReplyRenderer;
  /** The workspace's default quiet hours (its settings), for sends of a trigger that sets none of its own. */
  workspaceQuietHours?: QuietHours;
}

export type IdFactory = (...parts: Array<string | number>) => string;

/** What a reply body sees, as a send's body does at the dispatcher: the customer (id, traits) and the causing event's properties. */
export interface ReplyScope {
  customer: { id: string; traits: Traits };
  event: Properties;
}

/** Renders a reply body for a scope: the text, or why it cannot be (a missing variable, an unknown filter, over a bound). */
export type ReplyRenderer = (body: string, scope: ReplyScope) => { text: string } | { error: string };

/** The causing event's properties for templates, as the dispatcher gives them: a track's properties, an identify's or group's traits. */
export function templateEventProperties(event: JourneyEvent | undefined): Properties {
  const data = event?.data as { properties?: Properties; traits?: Properties } | undefined;
  return data?.properties ?? data?.traits ?? {};
}

/** The customer's answer to `decideRun`. */
export function decideRun(program: TriggerProgram, state: RunState, input: JourneyEvent, ctx: RunContext): JourneyEvent[] {
  return new RunDecision(program, state, input, ctx).decide();
}

class RunDecision {
  readonly out: JourneyEvent[] = [];
  private nowIso?: string;
  private readonly fired?: EventDataByType['TimerFired'];
  private readonly sent: ScheduledMessage[] = [];
  private readonly id: IdFactory;
  private readonly ctx: RunContext;
  /** The version new runs of this slot start with: the latest while enabled (live), the shadow version (shadow). */
  private readonly entryVersion?: CompiledTrigger;
  /** `key`/`shadow` on the slot's run events, and the id parts that keep its runs and timers apart from other slots'. */
  private readonly mark: RunSlot;
  private readonly slotParts: readonly string[];

  constructor(
    private readonly program: TriggerProgram,
    private readonly state: RunState,
    private readonly input: JourneyEvent,
    ctx: RunContext,
  ) {
    this.id = ctx.ids ?? deterministicId;
    const e = typed(input);
    if (e.type === 'TimerFired' && e.data.purpose === timerPurpose(program.id)) this.fired = e.data;
    if (state.key === undefined && !state.shadow) {
      // the customer's live run (the common case)
      this.entryVersion = program.enabled ? program.latest : undefined;
      this.mark = NO_MARK;
      this.slotParts = NO_PARTS;
      this.ctx = ctx;
      return;
    }
    this.entryVersion = state.shadow ? program.shadow : program.enabled ? program.latest : undefined;
    this.mark = slotMark(state);
    this.slotParts = [...(state.key !== undefined ? ['key', state.key] : []), ...(state.shadow ? ['shadow'] : [])];
    const key = state.key !== undefined ? (program.version(state.active?.version ?? 0) ?? this.entryVersion)?.key : undefined;
    this.ctx = key && state.key !== undefined ? keyedContext(ctx, key, state.key) : ctx;
  }

  decide(): JourneyEvent[] {
    if (this.input.type === 'TimerFired' && !this.fired) return [];
    const { active } = this.state;
    if (active) this.advanceActive(active);
    if (!this.fired) this.closeTasks();
    if (!this.fired && this.state.deferred) this.cancelWrongReminders(this.state.deferred);
    // a keyed slot takes new runs only while the entry version is keyed, the customer's slot only while it is not
    const t = this.entryVersion;
    if (t && !active && (t.key !== undefined) === (this.state.key !== undefined)) this.enter(t);
    return this.out;
  }

  /** Run event data (or a timer's payload) with the slot's `key`/`shadow`. */
  private marked<T extends object>(data: T): T {
    return this.mark === NO_MARK ? data : { ...data, ...this.mark };
  }

  /** An id of the slot's: a run's, an entry timer's (the customer's slot: as before keyed runs; others with their key and mark). */
  private slotId(...parts: Array<string | number>): string {
    return this.slotParts.length === 0 ? this.id(...parts) : this.id(...parts, ...this.slotParts);
  }

  /** Whether this input may start a run (or arm an entry watch) in this slot: a keyed slot's only on an event of its key. */
  private mayStart(t: CompiledTrigger): boolean {
    return this.state.key === undefined || this.fired !== undefined || t.key?.of(this.ctx.event) === this.state.key;
  }

  private advanceActive(active: NonNullable<RunState['active']>): void {
    const t = this.program.version(active.version);
    const step = t?.steps.get(active.step);
    const on = this.state.shadow ? this.program.shadow !== undefined : this.program.enabled;
    if (!t || !on)
      return this.exit(active.runId, active.version, this.state.shadow ? 'shadow stopped' : 'trigger disabled', active.wait?.timerId);
    if (this.fired) {
      if (this.fired.timerId !== active.wait?.timerId || !step) return;
      if (step.kind === 'wait') return this.run(t, active.runId, step.next);
      if (step.kind === 'waitUntil') return this.run(t, active.runId, step.onTimeout);
      return;
    }
    const exit = t.exits.find((x) => x.when(this.ctx));
    if (exit) return this.exit(active.runId, t.version, exit.reason, active.wait?.timerId);
    if (step?.kind === 'waitUntil' && step.until(this.ctx)) {
      if (active.wait) this.cancelTimer(active.wait.timerId, 'awaited event arrived');
      this.run(t, active.runId, step.onEvent);
    }
  }

  private closeTasks(): void {
    for (const [taskId, { version, step }] of Object.entries(this.state.tasks)) {
      const s = this.program.version(version)?.steps.get(step);
      if (s?.kind === 'task' && s.closeOn?.(this.ctx))
        this.emit('CsmTaskClosed', { taskId, resolution: `resolved by ${this.ctx.event!.name}` }, taskId, 'closed');
    }
  }

  /**
   * A late event (timestamped inside the window of the watch that started a run) that makes the watch false now (the
   * absent event did happen, after all) suppresses the run's messages still waiting out quiet hours.
   */
  private cancelWrongReminders(deferred: Record<string, DeferredMessage>): void {
    const event = this.ctx.event;
    if (!event) return;
    for (const [messageId, d] of Object.entries(deferred)) {
      const temporal = this.program.version(d.version)?.entry.temporal;
      if (d.notBefore <= this.ctx.now || event.at >= d.dueAt || !temporal || temporal.holds(this.ctx, d.armedAt, d.dueAt)) continue;
      const detail = `${event.name} at ${isoTime(event.at)} arrived late, inside the ${temporal.kind} watch that sent this message (due ${isoTime(d.dueAt)})`;
      const guards: GuardVerdict[] = [{ guard: 'late-event', verdict: 'suppressed', detail }];
      this.emit(
        'MessageSuppressed',
        {
          messageId,
          channel: d.channel,
          reason: 'late-event',
          detail,
          triggerId: this.program.id,
          triggerVersion: d.version,
          runId: d.runId,
          step: d.step,
          guards,
        },
        messageId,
        'late',
      );
    }
  }

  private enter(t: CompiledTrigger): void {
    const { temporal } = t.entry;
    if (!temporal) {
      const e = this.ctx.event;
      if (e && this.ctx.now - e.at <= t.maxEventAgeMs && this.mayStart(t) && this.canEnter(t) && t.entry.condition(this.ctx)) this.start(t);
      return;
    }
    const armed = this.state.armed;
    if (this.fired) {
      if (armed?.timerId !== this.fired.timerId) return;
      if (!temporal.holds(this.ctx, armed.armedAt, armed.dueAt)) {
        const next = temporal.rearm?.(this.ctx, armed.dueAt);
        if (next !== undefined && !Number.isNaN(next)) this.arm(t, next, armed.armedAt);
      } else if (this.canEnter(t) && t.entry.condition(this.ctx)) this.start(t);
      return;
    }
    if ((t.reentry.kind === 'once' && this.state.entries > 0) || !this.ctx.event || this.ctx.now - this.ctx.event.at > t.maxEventAgeMs)
      return;
    let current = armed;
    if (current && temporal.cancels(this.ctx, current.dueAt)) {
      this.cancelTimer(current.timerId, `${temporal.kind} watch no longer holds`);
      current = undefined;
    }
    if (!this.mayStart(t)) return;
    const dueAt = temporal.arm(this.ctx, current);
    if (dueAt === undefined || Number.isNaN(dueAt)) return;
    if (current) this.cancelTimer(current.timerId, `${temporal.kind} watch re-armed`);
    this.arm(t, dueAt, this.ctx.now);
  }

  /** Schedules the entry watch's timer (its id made from the input that arms it). */
  private arm(t: CompiledTrigger, dueAt: number, armedAt: number): void {
    const timerId = this.slotId('trigger-timer', this.ctx.workspaceId, this.ctx.customerId, t.id, t.version, this.input.id);
    this.emit(
      'TimerScheduled',
      {
        timerId,
        dueAt: isoTime(dueAt),
        purpose: timerPurpose(t.id),
        payload: this.marked({ kind: 'entry', version: t.version, armedAt }),
      },
      timerId,
      'scheduled',
    );
  }

  private canEnter(t: CompiledTrigger): boolean {
    const { entries, lastEnteredAt } = this.state;
    if (t.reentry.kind === 'once') return entries === 0;
    if (t.reentry.kind === 'oncePer') return lastEnteredAt === undefined || this.ctx.now - lastEnteredAt >= t.reentry.ms;
    return true;
  }

  private start(t: CompiledTrigger): void {
    const runId = this.slotId('trigger-run', this.ctx.workspaceId, this.ctx.customerId, t.id, t.version, this.input.id);
    this.emit(
      'TriggerMatched',
      this.marked({ triggerId: t.id, version: t.version, runId, causingEventId: this.input.id }),
      runId,
      'matched',
    );
    this.run(t, runId, t.first);
  }

  /** Executes steps from `addr` until the run waits or ends. */
  private run(t: CompiledTrigger, runId: string, addr: string): void {
    if (this.ctx.tooDeep && addr !== END) return this.exit(runId, t.version, 'causal-depth');
    while (addr !== END) {
      const step = t.steps.get(addr)!;
      const entered = (variant?: string) =>
        this.emit(
          'TriggerRunStepEntered',
          this.marked({ triggerId: t.id, version: t.version, runId, step: addr, kind: step.kind, ...(variant ? { variant } : {}) }),
          runId,
          addr,
          'entered',
        );
      if (step.kind !== 'split') entered();
      if (this.state.shadow && SHADOW_SKIPS.has(step.kind)) {
        addr = (step as { next: string }).next;
        continue;
      }
      switch (step.kind) {
        case 'wait':
        case 'waitUntil': {
          const timerId = this.id('trigger-timer', runId, addr);
          const dueAt = isoTime(this.ctx.now + (step.kind === 'wait' ? step.ms : step.timeoutMs));
          this.emit(
            'TimerScheduled',
            { timerId, dueAt, purpose: timerPurpose(t.id), payload: this.marked({ kind: 'step', runId, step: addr }) },
            runId,
            addr,
            'timer',
          );
          return;
        }
        case 'branch':
          addr = step.test(this.ctx) ? step.then : step.else;
          break;
        case 'split': {
          const variant = pickVariant(step, t.id, this.ctx.customerId);
          entered(variant?.name ?? 'holdout');
          if (!variant) return this.exit(runId, t.version, 'holdout');
          addr = variant.first;
          break;
        }
        case 'send':
          this.send(t, runId, addr, step);
          addr = step.next;
          break;
        case 'task': {
          const taskId = this.id('trigger-task', runId, addr);
          const dueAt = step.dueMs === undefined ? undefined : isoTime(this.ctx.now + step.dueMs);
          this.emit(
            'CsmTaskOpened',
            {
              taskId,
              title: step.title,
              owner: step.owner,
              priority: step.priority,
              dueAt,
              triggerId: t.id,
              triggerVersion: t.version,
              ...(step.closeOn ? { step: addr } : {}),
            },
            runId,
            addr,
            'task',
          );
          addr = step.next;
          break;
        }
        case 'set':
          if (step.traits) this.emit('TraitsUpdated', { traits: step.traits, by: `trigger:${t.id}` }, runId, addr, 'traits');
          if (step.stage && step.stage !== this.ctx.stage)
            this.emit(
              'StageChanged',
              { from: this.ctx.stage, to: step.stage, reason: `trigger ${t.id} v${t.version}` },
              runId,
              addr,
              'stage',
            );
          addr = step.next;
          break;
        case 'emit':
          this.emit('InteractionRecorded', { event: step.event, properties: step.properties }, runId, addr, 'emit');
          addr = step.next;
          break;
        case 'exit':
          return this.exit(runId, t.version, step.reason);
        case 'reply':
          this.reply(t, runId, addr, step.body);
          addr = step.next;
          break;
        case 'tag': {
          const c = this.conversation(runId);
          if (c) this.emit('ConversationTagged', { conversationId: c.id, tags: step.tags }, runId, addr, 'tagged');
          addr = step.next;
          break;
        }
        case 'handoff':
          this.handoff(t, runId, addr, step);
          addr = step.next;
          break;
        case 'resolve': {
          const c = this.conversation(runId);
          if (c && !c.resolved && !c.held) {
            this.emit('ConversationResolved', { conversationId: c.id, automated: true }, runId, addr, 'resolved');
            this.conversations.set(c.id, { ...c, resolved: true });
          }
          addr = step.next;
          break;
        }
        case 'webhook':
          this.webhook(t, runId, addr, step);
          addr = step.next;
          break;
      }
    }
    this.exit(runId, t.version, 'completed');
  }

  /** The conversations as this decision changed them (a handoff, a resolve), by id. */
  private readonly conversations = new Map<string, ConversationView & { id: string }>();
  /** The conversation a run started by this decision's handoff, by run. */
  private readonly started = new Map<string, string>();

  /**
   * The run's conversation: of the reply being decided on (it starts or advances the run), else the one the run
   * already has (its reply, or its handoff's); undefined outside any.
   */
  private conversation(runId: string): (ConversationView & { id: string }) | undefined {
    const e = typed(this.input);
    const id =
      this.started.get(runId) ??
      (e.type === 'CustomerReplied'
        ? e.data.conversationId
        : this.state.active?.runId === runId
          ? this.state.active.conversationId
          : undefined);
    if (id === undefined) return undefined;
    const changed = this.conversations.get(id);
    if (changed) return changed;
    const known = this.ctx.conversations?.get(id);
    if (known) return { ...known, id };
    return e.type === 'CustomerReplied' ? { id, channel: e.data.channel, held: false, assigned: false, resolved: false } : undefined;
  }

  /**
   * An automated answer in the run's conversation: an AgentReplied with the body rendered for the customer, unless
   * there is none, it is resolved, a person holds it (`held-by-person`), a higher-priority trigger answered the same
   * input (`priority`) or the body does not render (`template-error`, as a send's at the dispatcher): then a
   * MessageSuppressed with the verdict, for explain.
   */
  private reply(t: CompiledTrigger, runId: string, addr: string, body: string): void {
    const messageId = this.id('trigger-message', runId, addr);
    const c = this.conversation(runId);
    const origin = { triggerId: t.id, triggerVersion: t.version, runId, step: addr };
    const suppress = (reason: string, detail: string) =>
      this.emit(
        'MessageSuppressed',
        {
          messageId,
          channel: c?.channel ?? 'inbox',
          reason,
          detail,
          ...origin,
          guards: [{ guard: REPLY_GUARDS[reason] ?? 'conversation', verdict: 'suppressed', detail }],
        },
        runId,
        addr,
        'suppressed',
      );
    if (!c) return suppress('no-conversation', 'the run is in no conversation: its entry is no reply and no handoff started one');
    if (c.resolved) return suppress('resolved', `conversation ${c.id} is resolved`);
    if (c.held)
      return suppress('held-by-person', `conversation ${c.id} is held by a person: automation does not answer in it until it is resolved`);
    const claim = this.ctx.claim;
    if (claim && claim.triggerId !== t.id && claim.priority > t.priority)
      return suppress('priority', `trigger ${claim.triggerId} (priority ${claim.priority}) answered the same event`);
    const rendered = this.renderReply(body);
    if ('error' in rendered) return suppress('template-error', rendered.error);
    this.emit(
      'AgentReplied',
      { conversationId: c.id, messageId, channel: c.channel, body: rendered.text, automated: true, triggerId: t.id, runId },
      runId,
      addr,
      'replied',
    );
  }

  /** A reply body rendered with the scope a send's body gets (the customer as the decision sees it, the input's properties). */
  private renderReply(body: string): { text: string } | { error: string } {
    const render = this.ctx.renderReply;
    if (!render) return /\{\{|\{%/.test(body) ? { error: 'body: no template renderer was given to render this reply' } : { text: body };
    // the traits as a `set` step earlier in this decision left them (the dispatcher would read them from the log)
    const traits = this.out.reduce(
      (acc, e) => (e.type === 'TraitsUpdated' ? { ...acc, ...(e.data as EventDataByType['TraitsUpdated']).traits } : acc),
      this.ctx.traits,
    );
    return render(body, {
      customer: { id: this.ctx.customerId, traits },
      event: templateEventProperties(this.input),
    });
  }

  /**
   * Queues the run's conversation for a team (the assignment reactor picks the member). A conversation a person holds
   * already stays with them; outside a conversation (or after it was resolved) the handoff starts one, in-app, with
   * the trigger's name as its subject.
   */
  private handoff(t: CompiledTrigger, runId: string, addr: string, step: Extract<CompiledStep, { kind: 'handoff' }>): void {
    let c = this.conversation(runId);
    if (c?.held) return;
    if (!c || c.resolved) {
      const conversationId = this.id('trigger-conversation', this.ctx.workspaceId, this.ctx.customerId, runId, addr);
      this.emit('ConversationStarted', { conversationId, channel: 'inbox', subject: t.definition.name }, runId, addr, 'started');
      c = { id: conversationId, channel: 'inbox', held: false, assigned: false, resolved: false };
      this.started.set(runId, conversationId);
    }
    this.emit(
      'ConversationAssigned',
      { conversationId: c.id, team: step.team, priority: step.priority, reason: 'queued', triggerId: t.id, runId },
      runId,
      addr,
      'handoff',
    );
    this.conversations.set(c.id, { ...c, held: true, assigned: true });
  }

  /** A webhook step: a MessageScheduled on channel `http` with its request (no customer message: no consent, caps or quiet hours). */
  private webhook(t: CompiledTrigger, runId: string, addr: string, step: Extract<CompiledStep, { kind: 'webhook' }>): void {
    const messageId = this.id('trigger-message', runId, addr);
    const conversationId = this.conversation(runId)?.id;
    this.emit(
      'MessageScheduled',
      {
        messageId,
        channel: 'http',
        triggerId: t.id,
        triggerVersion: t.version,
        template: { body: step.body },
        request: { url: step.url, method: step.method, ...(Object.keys(step.headers).length ? { headers: step.headers } : {}) },
        causingEventId: this.input.id,
        runId,
        step: addr,
        ...(conversationId !== undefined ? { conversationId } : {}),
        guards: [],
      },
      runId,
      addr,
      'scheduled',
    );
  }

  /** A send through the guards (`checkGuards`): a MessageScheduled (deferred past quiet hours) or a MessageSuppressed. */
  private send(t: CompiledTrigger, runId: string, addr: string, step: Extract<CompiledStep, { kind: 'send' }>): void {
    const messageId = this.id('trigger-message', runId, addr);
    const { guards, suppressed, notBefore } = checkGuards(
      { triggerId: t.id, priority: t.priority, caps: t.caps, quietHours: t.quietHours },
      step,
      {
        now: this.ctx.now,
        traits: this.ctx.traits,
        timeZone: this.ctx.timeZone,
        messages: [...this.ctx.messages, ...this.sent],
        claim: this.ctx.claim,
        workspaceQuietHours: this.ctx.workspaceQuietHours,
      },
    );
    const origin = { triggerId: t.id, triggerVersion: t.version, runId, step: addr };
    if (this.state.shadow) {
      // what it would have been: nothing is scheduled, so nothing is sent
      const shadowed = { messageId, channel: step.channel, ...origin, guards };
      this.emit(
        'MessageShadowed',
        suppressed ? { ...shadowed, suppressed } : { ...shadowed, ...(notBefore ? { notBefore: new Date(notBefore).toISOString() } : {}) },
        runId,
        addr,
        'shadowed',
      );
      if (!suppressed) this.sent.push({ messageId, channel: step.channel, triggerId: t.id, at: this.ctx.now });
      return;
    }
    if (suppressed) {
      this.emit('MessageSuppressed', { messageId, channel: step.channel, ...suppressed, ...origin, guards }, runId, addr, 'suppressed');
      return;
    }
    this.emit(
      'MessageScheduled',
      {
        messageId,
        channel: step.channel,
        triggerId: t.id,
        triggerVersion: t.version,
        ...(step.template ? { templateId: step.template.id, templateVersion: step.template.version } : {}),
        template: { subject: step.subject, body: step.body },
        ...(step.to ? { to: step.to } : {}),
        causingEventId: this.input.id,
        ...(notBefore ? { notBefore: new Date(notBefore).toISOString() } : {}),
        runId,
        step: addr,
        guards,
      },
      runId,
      addr,
      'scheduled',
    );
    this.sent.push({ messageId, channel: step.channel, triggerId: t.id, at: this.ctx.now });
  }

  private exit(runId: string, version: number, reason: string, pendingTimerId?: string): void {
    if (pendingTimerId) this.cancelTimer(pendingTimerId, `run exited: ${reason}`);
    this.emit('TriggerRunExited', this.marked({ triggerId: this.program.id, version, runId, reason }), runId, 'exited');
  }

  private cancelTimer(timerId: string, reason: string): void {
    this.emit('TimerCancelled', { timerId, reason }, timerId, 'cancelled');
  }

  private emit<T extends EventType>(type: T, data: EventDataByType[T], ...idParts: string[]): void {
    this.nowIso ??= new Date(this.ctx.now).toISOString();
    this.out.push(
      envelope({
        id: this.id('trigger', ...idParts),
        type,
        data: data as unknown as Record<string, unknown>,
        workspaceId: this.ctx.workspaceId,
        customerId: this.ctx.customerId,
        occurredAt: this.nowIso,
        recordedAt: this.nowIso,
        cause: this.input,
        source: TRIGGER_SOURCE,
      }),
    );
  }
}

/** The guard a reply's suppression names in its verdict (explain): `conversation` for the conversation's own rules. */
const REPLY_GUARDS: Record<string, string> = { priority: 'priority', 'template-error': 'template' };

/** Stable per-customer bucket 0..99: the same customer always lands in the same variant (or the holdout). */
function pickVariant(step: Extract<CompiledStep, { kind: 'split' }>, triggerId: string, customerId: string) {
  const bucket = (createHash('sha1').update(`${triggerId}\u001f${customerId}`).digest().readUInt32BE(0) % 10_000) / 100;
  if (bucket < step.holdout) return undefined;
  const total = step.variants.reduce((s, v) => s + v.weight, 0);
  let point = ((bucket - step.holdout) / (100 - step.holdout)) * total;
  for (const v of step.variants) {
    if (point < v.weight) return v;
    point -= v.weight;
  }
  return step.variants[step.variants.length - 1];
}
