import { deterministicId, envelope, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { Processor, ProcessorHandler, type EventStore, type FailureSettings } from '@journey/event-store';
import { systemClock, type Clock } from '../runtime/clock';
import { ownerOf, type Partition } from '../runtime/partition';
import { reportAppended, type AppendedCallback, type ReactorLogger } from '../runtime/reactor-runner';
import { MinHeap } from './min-heap';

const TIMER_EVENTS = ['TimerScheduled', 'TimerFired', 'TimerCancelled'];
/** setTimeout's limit: a later timer is armed for this long, then re-armed. */
const MAX_DELAY_MS = 2 ** 31 - 1;
const FIRE_CHUNK = 500;

interface PendingTimer {
  timerId: string;
  dueAt: number;
  purpose: string;
  payload?: Record<string, unknown>;
  streamId: string;
  scheduled: RecordedEvent;
  /** Failed attempts at firing it (transient ones aside), and when to try again. */
  attempts?: number;
  retryAt?: number;
}

/** When a pending timer is next tried: its due time, or later after a failed attempt. */
const nextTry = (t: PendingTimer) => t.retryAt ?? t.dueAt;

export interface TimerSchedulerOptions {
  store: EventStore;
  clock?: Clock;
  partition?: Partition;
  logger?: ReactorLogger;
  /** After each append of TimerFired events: how many were written, and how many had been fired already. */
  onAppended?: AppendedCallback;
  /** Wait before retrying after a failed append or subscription: doubles from `retryMs` (default 1 s) up to 30 s. */
  retryMs?: number;
  /** Poison timers: attempts before quarantine, and what to call after one (see FailurePolicy). */
  failures?: FailureSettings;
}

/**
 * Fires durable timers (see `Reactor`), a handler on the Processor: `TimerScheduled` events in the log are the timers;
 * a `TimerFired` or `TimerCancelled` with the same `timerId` ends them. Its checkpoint is the log itself: on start the
 * pending timers of this partition's customers are rebuilt from it (an indexed read of the three timer event types),
 * so a restart loses nothing and timers that fell due while the process was down fire at once. Pending timers sit in a
 * min-heap by due time with ONE clock timeout armed for the earliest; a live subscription adds and removes timers as
 * their events are appended. `TimerFired` gets id `deterministicId('timer-fired', timerId)`, so a timer fires at most
 * once however often it is attempted (after a crash, or by two schedulers during a partition hand-over).
 *
 * Failures follow the shared FailurePolicy: firing is retried with backoff while the store is out; a timer whose
 * TimerFired keeps being rejected (or a timer event that cannot be read) is quarantined as a dead letter of `timers`
 * and the other timers fire. A retry request of such a dead letter fires the timer again.
 */
export class TimerScheduler extends ProcessorHandler {
  readonly processor: Processor;
  private readonly clock: Clock;
  private readonly owns: (workspaceId: string, customerId: string) => boolean;
  private readonly pending = new Map<string, PendingTimer>();
  private readonly heap = new MinHeap<PendingTimer>(nextTry);
  private disarm?: () => void;
  private armedFor?: number;
  private firing: Promise<void> = Promise.resolve();

  constructor(private readonly options: TimerSchedulerOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.owns = ownerOf(options.partition);
    const p = options.partition;
    this.processor = new Processor({
      name: p && p.count > 1 ? `timers#${p.index}/${p.count}` : 'timers',
      label: 'timer scheduler',
      store: options.store,
      filter: { eventTypes: TIMER_EVENTS },
      filterInStore: true,
      writesOnlyToLog: true,
      checkpoint: { load: () => this.rebuild() },
      handle: (events, { retry }) => (retry ? this.fire(events.map(timerOf), this.clock.now()) : (this.apply(events), this.arm())),
      onStop: () => {
        this.disarm?.();
        return this.firing;
      },
      failures: {
        minMs: options.retryMs ?? 1000,
        ...options.failures,
        now: () => this.clock.now(),
        onFailure: (error, delay, what) =>
          options.logger?.error(
            `timer scheduler: ${what} failed at position ${this.processor.position}, retrying in ${delay} ms: ${error.message}`,
          ),
      },
    });
  }

  /** How many timers are waiting to fire in this process. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Resolves when the firing in progress (if any) has finished: lets tests assert after moving a fake clock. */
  settled(): Promise<void> {
    return this.firing;
  }

  /** Where the processor starts: the pending timers rebuilt from the log (an indexed read of the timer events), armed. */
  private async rebuild(): Promise<bigint> {
    let after = this.processor.position;
    for (;;) {
      const batch = await this.options.store.readAll({ after, maxCount: 1000, filter: { eventTypes: TIMER_EVENTS } });
      if (batch.length === 0) break;
      await this.processor.failures.run(batch, (events) => this.apply(events));
      after = batch[batch.length - 1].position;
    }
    this.arm();
    return after;
  }

  private apply(events: RecordedEvent[]): void {
    for (const e of events) {
      const timer = timerOf(e);
      if (e.type !== 'TimerScheduled') {
        this.pending.delete(timer.timerId);
        continue;
      }
      if (!this.owns(e.metadata.workspaceId, e.metadata.customerId)) continue;
      if (Number.isNaN(timer.dueAt)) {
        this.options.logger?.error(
          `timer ${timer.timerId} in ${e.streamId} has an invalid dueAt "${String((e.data as Record<string, unknown>).dueAt)}": ignored`,
        );
        continue;
      }
      this.pending.set(timer.timerId, timer);
      this.heap.push(timer);
    }
  }

  /** Arms one clock timeout for the earliest pending timer (entries of fired or cancelled timers are dropped lazily). */
  private arm(): void {
    if (this.processor.signal.aborted) return;
    let next = this.heap.peek();
    while (next && this.pending.get(next.timerId) !== next) {
      this.heap.pop();
      next = this.heap.peek();
    }
    const at = next && nextTry(next);
    if (at === this.armedFor) return;
    this.disarm?.();
    this.disarm = undefined;
    this.armedFor = at;
    if (at === undefined) return;
    const delay = Math.min(MAX_DELAY_MS, Math.max(0, at - this.clock.now().getTime()));
    this.disarm = this.clock.schedule(() => {
      this.disarm = undefined;
      this.armedFor = undefined;
      this.firing = this.firing.then(() => this.fireDue());
    }, delay);
  }

  private async fireDue(): Promise<void> {
    if (this.processor.signal.aborted) return;
    const now = this.clock.now();
    const due: PendingTimer[] = [];
    for (let top = this.heap.peek(); top && nextTry(top) <= now.getTime(); top = this.heap.peek()) {
      this.heap.pop();
      if (this.pending.get(top.timerId) === top) due.push(top);
    }
    try {
      for (let i = 0; i < due.length; i += FIRE_CHUNK) {
        const chunk = due.slice(i, i + FIRE_CHUNK);
        try {
          await this.fire(chunk, now);
        } catch (error) {
          // A chunk the store rejects, not for an outage: fire its timers one by one, so one poison timer never holds the others.
          // (an outage is judged once, by retryLater: judging it here too would advance the backoff twice)
          if (chunk.length === 1 || (await this.processor.failures.isOutage(error))) {
            await this.retryLater(chunk, error, now);
            continue;
          }
          for (const t of chunk) await this.fire([t], now).catch((e: unknown) => this.retryLater([t], e, now));
        }
      }
    } catch {
      return; // stopping (a quarantine cut short): the timers left fire after the restart
    }
    this.arm();
  }

  /** After a failed attempt: the timers are tried again after the policy's wait, or quarantined once poison. */
  private async retryLater(timers: PendingTimer[], error: unknown, now: Date): Promise<void> {
    const attempts = Math.max(...timers.map((t) => t.attempts ?? 0)) + 1;
    const what = timers.length === 1 ? `firing timer ${timers[0].timerId} (${timers[0].streamId})` : `firing ${timers.length} timers`;
    const verdict = await this.processor.failures.judge(error, attempts, what);
    for (const t of timers) {
      if (this.pending.get(t.timerId) !== t) continue;
      if (verdict.quarantine) {
        await this.processor.failures.quarantine(t.scheduled, this.processor.failures.lastError!, attempts);
        this.pending.delete(t.timerId);
        continue;
      }
      if (!verdict.transient) t.attempts = attempts;
      t.retryAt = now.getTime() + verdict.retryInMs;
      this.heap.push(t);
    }
  }

  private async fire(timers: PendingTimer[], now: Date): Promise<void> {
    const requests = timers.map((t) => ({ streamId: t.streamId, events: [firedEvent(t, now)], expectedRevision: 'any' as const }));
    reportAppended(requests, await this.options.store.appendMany(requests), this.options.onAppended);
    this.processor.failures.succeeded();
    for (const t of timers) if (this.pending.get(t.timerId) === t) this.pending.delete(t.timerId);
  }
}

/** The timer a timer event is about (only `TimerScheduled` carries its due time, purpose and payload). */
function timerOf(e: RecordedEvent): PendingTimer {
  const data = e.data as Record<string, unknown>;
  return {
    timerId: String(data.timerId),
    dueAt: Date.parse(String(data.dueAt)),
    purpose: String(data.purpose),
    payload: data.payload as Record<string, unknown> | undefined,
    streamId: e.streamId,
    scheduled: e,
  };
}

function firedEvent(timer: PendingTimer, now: Date): JourneyEvent {
  const { workspaceId, customerId } = timer.scheduled.metadata;
  return envelope({
    id: deterministicId('timer-fired', timer.timerId),
    type: 'TimerFired',
    data: { timerId: timer.timerId, purpose: timer.purpose, ...(timer.payload ? { payload: timer.payload } : {}) },
    workspaceId,
    customerId,
    occurredAt: new Date(timer.dueAt).toISOString(),
    recordedAt: now.toISOString(),
    cause: timer.scheduled,
    source: 'timer',
  });
}
