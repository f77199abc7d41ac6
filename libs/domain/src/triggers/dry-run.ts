/**
 * Dry-run impact of a trigger change: the candidate version (a new document, or the version an enable would make live)
 * backtested beside the version live now, in ONE pass over the log: each event is read and decoded once by the caller
 * and handed to two independent `Backtest`s (each with its own customer simulations, so neither version's runs,
 * messages or caps leak into the other's). Answers who starts and who stops getting what: per step and channel the
 * messages, suppressions by reason and tasks of both versions and the difference, the customers who start / stop
 * getting each step (counts and samples), and the messages per day. Pure, like `Backtest`: feed events with `add`, then
 * `report()` (see `runDryRun` in @journey/reactors).
 *
 * Steps of the two versions are matched by what they do (`label`: kind, channel, subject, title...), not by address,
 * so a step inserted before others does not make every later step "new". Two steps of one version with the same label
 * are told apart by their order (`#2`).
 *
 * A customer "gets" a step when it has its effect on them: a send / reply / webhook step when its message was
 * scheduled (not suppressed), a task step when its task was opened, any other step when a run entered it.
 */
import { typed, type JourneyEvent } from '../events';
import { occurredTime } from '../event-time';
import { Backtest, compareAddresses, type BacktestReport, type StepReport } from './backtest';
import type { TriggerDefinition } from './schema';
import type { ReplyRenderer } from './run';

/** Channels that are not messages to the customer (a webhook step's request): left out of the daily message estimate. */
const NOT_MESSAGES: ReadonlySet<string> = new Set(['http']);

const DAY_MS = 86_400_000;

export interface DryRunVersion {
  definition: TriggerDefinition;
  version: number;
}

export interface DryRunOptions {
  workspaceId: string;
  /** The version live now; absent when nothing is live (a disabled trigger being enabled): everything "starts". */
  current?: DryRunVersion;
  candidate: DryRunVersion;
  from: Date;
  to: Date;
  /** Sample customer ids kept per list. Default 5. */
  samples?: number;
  renderReply?: ReplyRenderer;
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
  /** What the step does (the backtest's label), `#n` when a version has several such steps. */
  step: string;
  kind: string;
  /** The step's address in each version (absent: the version has no such step). */
  currentAddress?: string;
  candidateAddress?: string;
  /** Runs that entered the step. */
  runs: Difference;
  /** Customers who got it (see the module comment). */
  customers: Difference;
  messages: Record<string, Difference>;
  suppressed: Record<string, Difference>;
  tasks: Difference;
  /** Customers who get the step with the candidate and did not with the current version, and the reverse. */
  starts: CustomerChange;
  stops: CustomerChange;
}

export interface MessagesPerDay {
  /** Messages (every channel but `http`) over the period, per day of the period. */
  average: number;
  /** The busiest UTC day's messages. */
  peak: number;
  peakDay: string | null;
  /** Messages over the period. */
  total: number;
  /** UTC day (YYYY-MM-DD) -> messages scheduled for it (the time a deferred message goes out). */
  days: Record<string, number>;
}

export interface DryRunReport {
  triggerId: string;
  from: string;
  to: string;
  /** Length of the period in days (fractional when it does not span whole days). */
  days: number;
  current: { version: number; report: BacktestReport } | null;
  candidate: { version: number; report: BacktestReport };
  /** Runs started. */
  entered: Difference & { starts: CustomerChange; stops: CustomerChange };
  steps: StepImpact[];
  /** Messages by channel and suppressions by reason over every step. */
  messages: Record<string, Difference>;
  suppressed: Record<string, Difference>;
  tasks: Difference;
  /** Customers who get any message with the candidate and none with the current version, and the reverse. */
  messaged: Difference & { starts: CustomerChange; stops: CustomerChange };
  messagesPerDay: { current: MessagesPerDay | null; candidate: MessagesPerDay; difference: { average: number; peak: number } };
}

/** What one side's simulation did, per customer, beyond the backtest's counts. */
class SideObserver {
  readonly entered = new Set<string>();
  readonly messaged = new Set<string>();
  /** step address -> customers who got it. */
  readonly got = new Map<string, Set<string>>();
  /** step address -> tasks opened. */
  readonly tasks = new Map<string, number>();
  readonly days: Record<string, number> = {};
  private readonly runStep = new Map<string, { step: string; kind: string }>();

  observe = (customerId: string, _input: JourneyEvent, decided: JourneyEvent[]): void => {
    // a task's CsmTaskOpened names its step only with closeOn: else it is the task step entered just before it
    let taskStep: string | undefined;
    for (const event of decided) {
      const e = typed(event);
      switch (e.type) {
        case 'TriggerMatched':
          this.entered.add(customerId);
          break;
        case 'TriggerRunStepEntered':
          this.runStep.set(e.data.runId, { step: e.data.step, kind: e.data.kind });
          if (e.data.kind === 'task') taskStep = e.data.step;
          if (!['send', 'reply', 'webhook', 'task'].includes(e.data.kind)) this.gets(e.data.step, customerId);
          break;
        case 'TriggerRunExited':
          this.runStep.delete(e.data.runId);
          break;
        case 'MessageScheduled':
          if (e.data.step === undefined) break;
          this.gets(e.data.step, customerId);
          this.message(customerId, e.data.channel, e.data.notBefore ? Date.parse(e.data.notBefore) : occurredTime(e));
          break;
        case 'AgentReplied': {
          const at = e.data.runId ? this.runStep.get(e.data.runId) : undefined;
          if (!at) break;
          this.gets(at.step, customerId);
          this.message(customerId, e.data.channel, occurredTime(e));
          break;
        }
        case 'CsmTaskOpened': {
          const step = e.data.step ?? taskStep;
          if (step === undefined) break;
          this.gets(step, customerId);
          this.tasks.set(step, (this.tasks.get(step) ?? 0) + 1);
          break;
        }
      }
    }
  };

  private gets(step: string, customerId: string): void {
    let set = this.got.get(step);
    if (!set) this.got.set(step, (set = new Set()));
    set.add(customerId);
  }

  private message(customerId: string, channel: string, at: number): void {
    if (NOT_MESSAGES.has(channel)) return;
    this.messaged.add(customerId);
    const day = new Date(at).toISOString().slice(0, 10);
    this.days[day] = (this.days[day] ?? 0) + 1;
  }
}

/** Steps keyed by label (`#n` for a repeated label), in definition order. */
function stepsByLabel(report: BacktestReport): Map<string, StepReport> {
  const out = new Map<string, StepReport>();
  const seen = new Map<string, number>();
  for (const s of [...report.steps].sort((a, b) => compareAddresses(a.step, b.step))) {
    const n = (seen.get(s.label) ?? 0) + 1;
    seen.set(s.label, n);
    out.set(n === 1 ? s.label : `${s.label} #${n}`, s);
  }
  return out;
}

const diff = (current: number, candidate: number): Difference => ({ current, candidate, difference: candidate - current });

function diffCounts(current: Record<string, number> = {}, candidate: Record<string, number> = {}): Record<string, Difference> {
  const out: Record<string, Difference> = {};
  for (const k of [...new Set([...Object.keys(current), ...Object.keys(candidate)])].sort())
    out[k] = diff(current[k] ?? 0, candidate[k] ?? 0);
  return out;
}

function change(from: ReadonlySet<string>, to: ReadonlySet<string>, samples: number): CustomerChange {
  const ids: string[] = [];
  let customers = 0;
  for (const id of to)
    if (!from.has(id)) {
      customers++;
      if (ids.length < samples) ids.push(id);
    }
  return { customers, sampleCustomerIds: ids };
}

function perDay(side: SideObserver, days: number): MessagesPerDay {
  let total = 0;
  let peak = 0;
  let peakDay: string | null = null;
  const sorted: Record<string, number> = {};
  for (const day of Object.keys(side.days).sort()) {
    const n = side.days[day];
    sorted[day] = n;
    total += n;
    if (n > peak) [peak, peakDay] = [n, day];
  }
  return { average: round2(days > 0 ? total / days : 0), peak, peakDay, days: sorted, total };
}

const EMPTY = new Set<string>();
const round2 = (n: number) => Math.round(n * 100) / 100;

export class DryRun {
  private readonly current?: { backtest: Backtest; side: SideObserver };
  private readonly candidate: { backtest: Backtest; side: SideObserver };
  private finished?: DryRunReport;

  constructor(private readonly options: DryRunOptions) {
    const side = (v: DryRunVersion) => {
      const observer = new SideObserver();
      const backtest = new Backtest({
        workspaceId: options.workspaceId,
        definition: v.definition,
        version: v.version,
        from: options.from,
        to: options.to,
        samples: options.samples,
        renderReply: options.renderReply,
        observe: observer.observe,
      });
      return { backtest, side: observer };
    };
    if (options.current && options.current.definition.id !== options.candidate.definition.id)
      throw new Error(
        `dry-run: the versions are of different triggers ("${options.current.definition.id}", "${options.candidate.definition.id}")`,
      );
    if (options.current) this.current = side(options.current);
    this.candidate = side(options.candidate);
  }

  /** A customer event of the workspace, in log order: decided on by both versions' simulations. */
  add(event: JourneyEvent): void {
    this.current?.backtest.add(event);
    this.candidate.backtest.add(event);
  }

  report(): DryRunReport {
    if (this.finished) return this.finished;
    const samples = this.options.samples ?? 5;
    const cur = this.current ? { report: this.current.backtest.report(), side: this.current.side } : undefined;
    const cand = { report: this.candidate.backtest.report(), side: this.candidate.side };
    const curSteps = cur ? stepsByLabel(cur.report) : new Map<string, StepReport>();
    const candSteps = stepsByLabel(cand.report);
    const labels = [...candSteps.keys(), ...[...curSteps.keys()].filter((k) => !candSteps.has(k))];
    const steps: StepImpact[] = labels.map((label) => {
      const a = curSteps.get(label);
      const b = candSteps.get(label);
      const gotA = (a && cur?.side.got.get(a.step)) || EMPTY;
      const gotB = (b && cand.side.got.get(b.step)) || EMPTY;
      return {
        step: label,
        kind: (b ?? a)!.kind,
        ...(a ? { currentAddress: a.step } : {}),
        ...(b ? { candidateAddress: b.step } : {}),
        runs: diff(a?.runs ?? 0, b?.runs ?? 0),
        customers: diff(gotA.size, gotB.size),
        messages: diffCounts(a?.sent, b?.sent),
        suppressed: diffCounts(a?.suppressed, b?.suppressed),
        tasks: diff((a && cur?.side.tasks.get(a.step)) || 0, (b && cand.side.tasks.get(b.step)) || 0),
        starts: change(gotA, gotB, samples),
        stops: change(gotB, gotA, samples),
      };
    });
    const sum = (side: SideObserver | undefined) => [...(side?.tasks.values() ?? [])].reduce((n, x) => n + x, 0);
    const days = (this.options.to.getTime() - this.options.from.getTime()) / DAY_MS;
    const curDay = cur ? perDay(cur.side, days) : null;
    const candDay = perDay(cand.side, days);
    const enteredA = cur?.side.entered ?? EMPTY;
    const messagedA = cur?.side.messaged ?? EMPTY;
    this.finished = {
      triggerId: this.options.candidate.definition.id,
      from: this.options.from.toISOString(),
      to: this.options.to.toISOString(),
      days: Math.round(days * 1000) / 1000,
      current: cur ? { version: this.options.current!.version, report: cur.report } : null,
      candidate: { version: this.options.candidate.version, report: cand.report },
      entered: {
        ...diff(cur?.report.entered.runs ?? 0, cand.report.entered.runs),
        starts: change(enteredA, cand.side.entered, samples),
        stops: change(cand.side.entered, enteredA, samples),
      },
      steps,
      messages: diffCounts(cur?.report.messages.sent, cand.report.messages.sent),
      suppressed: diffCounts(cur?.report.messages.suppressed, cand.report.messages.suppressed),
      tasks: diff(sum(cur?.side), sum(cand.side)),
      messaged: {
        ...diff(messagedA.size, cand.side.messaged.size),
        starts: change(messagedA, cand.side.messaged, samples),
        stops: change(cand.side.messaged, messagedA, samples),
      },
      messagesPerDay: {
        current: curDay,
        candidate: candDay,
        difference: {
          average: round2(days > 0 ? (candDay.total - (curDay?.total ?? 0)) / days : 0),
          peak: candDay.peak - (curDay?.peak ?? 0),
        },
      },
    };
    return this.finished;
  }
}
