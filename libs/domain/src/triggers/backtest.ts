/**
 * Backtest: replays a (draft) trigger over recorded history with the very deciders the reactor runs, nothing appended
 * and nothing sent, and reports per step what would have happened. Pure: feed customer events in log order with
 * `add`, then `report()`; the caller reads the log (see `runBacktest` in @journey/reactors).
 *
 * Events that arrived (`recordedAt`) before `from` are context only (traits, stage, history); events in [from, to) are
 * decided on, and timers fire at their due time up to `to`. The draft replaces any deployed trigger of the same id: the
 * trigger runtime's own bookkeeping in the log is left out, except messages other triggers scheduled (they count
 * against frequency caps).
 */
import type { QuietHours } from './guards';
import { typed, type JourneyEvent } from '../events';
import { CustomerSimulation } from './customer';
import { END, triggerProgram, type CompiledStep, type TriggerProgram } from './program';
import { TRIGGER_SOURCE, type IdFactory, type ReplyRenderer } from './run';
import type { TriggerDefinition } from './schema';

export interface BacktestOptions {
  workspaceId: string;
  /** A valid definition (see `validateTrigger`). */
  definition: TriggerDefinition;
  /** The version the report names (a draft: the next version). Default 1. */
  version?: number;
  /** Inclusive; default: the beginning of the log. */
  from?: Date;
  /** Exclusive: events arriving later are ignored and timers fire up to here. */
  to: Date;
  /** Sample customer ids kept per step. Default 5. */
  samples?: number;
  /** Renders `reply` bodies (Liquid): `replyRenderer()` from @journey/messaging, as the live reactor does. */
  renderReply?: ReplyRenderer;
  /** The workspace's default quiet hours (its settings), for a trigger without its own, as live. */
  workspaceQuietHours?: QuietHours;
  /** Sees every input replayed (with fired timers and fed-back effects) and the events decided on it. */
  observe?: (customerId: string, input: JourneyEvent, decided: JourneyEvent[]) => void;
}

/** Counts of runs and distinct customers, with a few customer ids to look at. */
export interface Reach {
  runs: number;
  customers: number;
  sampleCustomerIds: string[];
}

export interface StepReport extends Reach {
  /** The step's address: `0`, `2.then.0`, `3.variants.1.0`, `4.onTimeout.0`. */
  step: string;
  kind: CompiledStep['kind'];
  label: string;
  /** branch: then / else; split: variant name or holdout. */
  branches?: Record<string, number>;
  /** wait until: how the wait ended (event arrived / timeout). */
  outcomes?: Record<string, number>;
  /**
   * send, reply, webhook: messages by channel (a reply's: the conversation's; a webhook's: `http`), how many were
   * deferred by quiet hours, suppressed ones by reason (`held-by-person`: a person held the conversation;
   * `template-error`: a reply body that did not render for the customer, with `renderReply`).
   */
  sent?: Record<string, number>;
  deferredByQuietHours?: number;
  suppressed?: Record<string, number>;
}

export interface BacktestReport {
  triggerId: string;
  version: number;
  from: string | null;
  to: string;
  /** Customer events decided on (in range), and earlier ones read as context. */
  eventsReplayed: number;
  contextEvents: number;
  customers: number;
  entered: Reach;
  steps: StepReport[];
  messages: { sent: Record<string, number>; suppressed: Record<string, number>; deferredByQuietHours: number };
  exits: Record<string, number>;
  /** Runs still waiting at `to`. */
  activeAtEnd: number;
}

class ReachCounter {
  runs = 0;
  private readonly ids = new Set<string>();
  readonly samples: string[] = [];
  constructor(private readonly maxSamples: number) {}
  add(customerId: string): void {
    this.runs++;
    if (this.ids.has(customerId)) return;
    this.ids.add(customerId);
    if (this.samples.length < this.maxSamples) this.samples.push(customerId);
  }
  reach(): Reach {
    return { runs: this.runs, customers: this.ids.size, sampleCustomerIds: [...this.samples] };
  }
}

interface StepStats {
  reach: ReachCounter;
  branches: Record<string, number>;
  outcomes: Record<string, number>;
  sent: Record<string, number>;
  deferred: number;
  suppressed: Record<string, number>;
}

/** Nothing a backtest decides is stored: readable ids from the parts, without the cost of hashing them. */
const backtestId: IdFactory = (...parts) => parts.join('/');

/** Steps that message someone: their messages (and suppressions) are counted per step (a reply's by its conversation's channel). */
const MESSAGE_STEPS: ReadonlySet<string> = new Set(['send', 'reply', 'webhook']);

const bump = (counts: Record<string, number>, key: string) => void (counts[key] = (counts[key] ?? 0) + 1);

export class Backtest {
  readonly program: TriggerProgram;
  private readonly from: number;
  private readonly to: number;
  private readonly customers = new Map<string, CustomerSimulation>();
  private readonly entered: ReachCounter;
  private readonly steps = new Map<string, StepStats>();
  private readonly exits: Record<string, number> = {};
  /** Active runs: the step each one is at. */
  private readonly runs = new Map<string, string>();
  /** messageId -> the send step that scheduled it. */
  private readonly messageSteps = new Map<string, string>();
  private replayed = 0;
  private context = 0;
  private finished?: BacktestReport;

  constructor(private readonly options: BacktestOptions) {
    const { definition } = options;
    const version = options.version ?? 1;
    this.program = triggerProgram({
      triggerId: definition.id,
      version,
      enabled: true,
      definitions: { [version]: definition },
      revision: 0,
    });
    this.from = options.from?.getTime() ?? -Infinity;
    this.to = options.to.getTime();
    const samples = options.samples ?? 5;
    this.entered = new ReachCounter(samples);
    for (const step of [...this.program.latest.steps.keys()].sort(compareAddresses))
      this.steps.set(step, { reach: new ReachCounter(samples), branches: {}, outcomes: {}, sent: {}, deferred: 0, suppressed: {} });
  }

  /** A customer event of the workspace, in log order (others are ignored). */
  add(event: JourneyEvent): void {
    if (this.finished) throw new Error('the backtest has already reported');
    const { workspaceId, customerId, recordedAt } = event.metadata;
    if (workspaceId !== this.options.workspaceId || !customerId || !this.isHistory(event)) return;
    const arrived = Date.parse(recordedAt);
    if (!(arrived < this.to)) return;
    let sim = this.customers.get(customerId);
    if (!sim)
      this.customers.set(
        customerId,
        (sim = new CustomerSimulation([this.program], (input, decided) => this.observe(customerId, input, decided), backtestId, {
          renderReply: this.options.renderReply,
          workspaceQuietHours: this.options.workspaceQuietHours,
        })),
      );
    // a merged id's copied history (#12) is context, as live: decided on under that id, never again
    if (arrived < this.from || event.metadata.mergedFrom !== undefined) {
      this.context++;
      sim.prior(event);
    } else {
      this.replayed++;
      sim.input(event, arrived);
    }
  }

  /** Fires the timers due by `to` and reports. */
  report(): BacktestReport {
    if (this.finished) return this.finished;
    for (const sim of this.customers.values()) sim.fireDue(this.to);
    const messages = { sent: {} as Record<string, number>, suppressed: {} as Record<string, number>, deferredByQuietHours: 0 };
    const steps: StepReport[] = [];
    for (const [step, s] of this.steps) {
      const compiled = this.program.latest.steps.get(step)!;
      const r: StepReport = { step, kind: compiled.kind, label: label(compiled), ...s.reach.reach() };
      if (compiled.kind === 'branch' || compiled.kind === 'split') r.branches = s.branches;
      if (compiled.kind === 'waitUntil') r.outcomes = s.outcomes;
      if (MESSAGE_STEPS.has(compiled.kind)) Object.assign(r, { sent: s.sent, deferredByQuietHours: s.deferred, suppressed: s.suppressed });
      for (const [k, n] of Object.entries(s.sent)) messages.sent[k] = (messages.sent[k] ?? 0) + n;
      for (const [k, n] of Object.entries(s.suppressed)) messages.suppressed[k] = (messages.suppressed[k] ?? 0) + n;
      messages.deferredByQuietHours += s.deferred;
      steps.push(r);
    }
    this.finished = {
      triggerId: this.program.id,
      version: this.program.latest.version,
      from: this.options.from?.toISOString() ?? null,
      to: this.options.to.toISOString(),
      eventsReplayed: this.replayed,
      contextEvents: this.context,
      customers: this.customers.size,
      entered: this.entered.reach(),
      steps,
      messages,
      exits: this.exits,
      activeAtEnd: this.runs.size,
    };
    return this.finished;
  }

  /** What the draft sees of the log: the customer's history without the trigger runtime's bookkeeping. */
  private isHistory(event: JourneyEvent): boolean {
    const e = typed(event);
    if (e.type === 'TimerFired') return !e.data.purpose.startsWith('trigger:');
    if (e.metadata.source !== TRIGGER_SOURCE) return true;
    return e.type === 'MessageScheduled' && e.data.triggerId !== this.program.id;
  }

  private observe(customerId: string, input: JourneyEvent, decided: JourneyEvent[]): void {
    this.options.observe?.(customerId, input, decided);
    for (const event of decided) {
      const e = typed(event);
      switch (e.type) {
        case 'TriggerMatched':
          this.entered.add(customerId);
          this.runs.set(e.data.runId, '');
          break;
        case 'TriggerRunStepEntered': {
          const stats = this.steps.get(e.data.step);
          if (!stats) break;
          this.transition(e.data.runId, e.data.step, input);
          stats.reach.add(customerId);
          if (e.data.variant !== undefined) bump(stats.branches, e.data.variant);
          if (MESSAGE_STEPS.has(e.data.kind)) this.messageSteps.set(backtestId('trigger-message', e.data.runId, e.data.step), e.data.step);
          this.runs.set(e.data.runId, e.data.step);
          break;
        }
        case 'TriggerRunExited':
          if (e.data.reason === 'completed') this.transition(e.data.runId, END, input);
          bump(this.exits, e.data.reason);
          this.runs.delete(e.data.runId);
          break;
        case 'MessageScheduled': {
          const stats = this.messageStats(e.data.messageId);
          if (!stats) break;
          bump(stats.sent, e.data.channel);
          if (e.data.notBefore) stats.deferred++;
          break;
        }
        case 'AgentReplied': {
          const stats = this.messageStats(e.data.messageId);
          if (stats) bump(stats.sent, e.data.channel);
          break;
        }
        case 'MessageSuppressed': {
          const stats = this.messageStats(e.data.messageId);
          if (stats) bump(stats.suppressed, e.data.reason);
          break;
        }
      }
    }
  }

  private messageStats(messageId: string): StepStats | undefined {
    const step = this.messageSteps.get(messageId);
    this.messageSteps.delete(messageId);
    return step === undefined ? undefined : this.steps.get(step);
  }

  /** A run moved from the step it was at to `next`: record which way a branch went or how a wait ended. */
  private transition(runId: string, next: string, input: JourneyEvent): void {
    const at = this.runs.get(runId);
    const step = at ? this.program.latest.steps.get(at) : undefined;
    const stats = at ? this.steps.get(at) : undefined;
    if (!step || !stats) return;
    if (step.kind === 'branch')
      bump(stats.branches, step.then === step.else ? 'then/else (both empty)' : next === step.then ? 'then' : 'else');
    if (step.kind === 'waitUntil') bump(stats.outcomes, input.type === 'TimerFired' ? 'timeout' : 'event');
  }
}

function label(step: CompiledStep): string {
  switch (step.kind) {
    case 'wait':
      return `wait ${formatMs(step.ms)}`;
    case 'waitUntil':
      return `wait for an event (timeout ${formatMs(step.timeoutMs)})`;
    case 'branch':
      return 'branch';
    case 'split':
      return `split ${step.variants.map((v) => v.name).join(' / ')}${step.holdout ? ` (holdout ${step.holdout}%)` : ''}`;
    case 'send':
      return `send ${step.channel}${step.subject ? `: ${step.subject}` : ''}`;
    case 'task':
      return `task: ${step.title}`;
    case 'set':
      return `set ${[step.stage && `stage ${step.stage}`, step.traits && `traits ${Object.keys(step.traits).join(', ')}`].filter(Boolean).join(', ')}`;
    case 'emit':
      return `emit ${step.event}`;
    case 'exit':
      return `exit (${step.reason})`;
    case 'reply':
      return `reply: ${step.body.length > 40 ? `${step.body.slice(0, 39)}…` : step.body}`;
    case 'tag':
      return `tag ${step.tags.join(', ')}`;
    case 'handoff':
      return `hand off to ${step.team} (${step.priority})`;
    case 'resolve':
      return 'resolve';
    case 'webhook':
      return `webhook ${step.method} ${step.url}`;
  }
}

function formatMs(ms: number): string {
  for (const [unit, size] of [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms / 1000}s`;
}

const SEGMENT_ORDER = ['then', 'else', 'variants', 'onEvent', 'onTimeout'];

/** Definition order: `0` < `0.then.0` < `0.else.0` < `1`. */
export function compareAddresses(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if (pa[i] === undefined) return -1;
    if (pb[i] === undefined) return 1;
    if (pa[i] === pb[i]) continue;
    const na = Number(pa[i]);
    const nb = Number(pb[i]);
    if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
    return SEGMENT_ORDER.indexOf(pa[i]) - SEGMENT_ORDER.indexOf(pb[i]);
  }
  return 0;
}
