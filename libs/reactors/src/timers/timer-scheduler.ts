import { currentSchemaVersion, deterministicId, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import type { EventStore, SubscriptionHandle } from '@journey/event-store';
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
}

export interface TimerSchedulerOptions {
  store: EventStore;
  clock?: Clock;
  partition?: Partition;
  logger?: ReactorLogger;
  /** After each append of TimerFired events: how many were written, and how many had been fired already. */
  onAppended?: AppendedCallback;
  /** Wait before retrying after a failed append or subscription. */
  retryMs?: number;
}

/**
 * Fires durable timers (see `Reactor`): `TimerScheduled` events in the log are the timers; a `TimerFired` or
 * `TimerCancelled` with the same `timerId` ends them. On start the pending timers of this partition's customers are
 * rebuilt from the log (an indexed read of the three timer event types), so a restart loses nothing and timers that
 * fell due while the process was down fire at once. Pending timers sit in a min-heap by due time with ONE clock
 * timeout armed for the earliest; a live subscription adds and removes timers as their events are appended.
 * `TimerFired` gets id `deterministicId('timer-fired', timerId)`, so a timer fires at most once however often it is
 * attempted (after a crash, or by two schedulers during a partition hand-over).
 */
export class TimerScheduler {
  /** Global position of the last timer event applied. */
  position = 0n;
  lastError?: Error;
  private readonly clock: Clock;
  private readonly owns: (workspaceId: string, customerId: string) => boolean;
  private readonly pending = new Map<string, PendingTimer>();
  private readonly heap = new MinHeap<PendingTimer>((t) => t.dueAt);
  private subscription?: SubscriptionHandle;
  private disarm?: () => void;
  private armedFor?: number;
  private notBefore = 0;
  private firing: Promise<void> = Promise.resolve();
  private started = false;
  private stopped = false;

  constructor(private readonly options: TimerSchedulerOptions) {
    this.clock = options.clock ?? systemClock;
    this.owns = ownerOf(options.partition);
  }

  /** How many timers are waiting to fire in this process. */
  get pendingCount(): number {
    return this.pending.size;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (;;) {
      const batch = await this.options.store.readAll({ after: this.position, maxCount: 1000, filter: { eventTypes: TIMER_EVENTS } });
      if (batch.length === 0) break;
      this.apply(batch);
    }
    this.subscribe();
    this.arm();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm?.();
    await this.subscription?.stop();
    await this.firing;
  }

  /** Resolves when the firing in progress (if any) has finished: lets tests assert after moving a fake clock. */
  settled(): Promise<void> {
    return this.firing;
  }

  private subscribe(): void {
    const subscription = this.options.store.subscribeToAll({ after: this.position, filter: { eventTypes: TIMER_EVENTS }, derivesIntoLog: true }, (events) => {
      this.apply(events);
      this.arm();
    });
    this.subscription = subscription;
    subscription.done.catch((error: Error) => {
      if (this.stopped) return;
      this.lastError = error;
      this.options.logger?.error(`timer scheduler subscription failed at position ${this.position}, resubscribing: ${error.message}`);
      setTimeout(() => this.stopped || this.subscribe(), this.options.retryMs ?? 1000).unref();
    });
  }

  private apply(events: RecordedEvent[]): void {
    for (const e of events) {
      this.position = e.position;
      const data = e.data as Record<string, unknown>;
      const timerId = String(data.timerId);
      if (e.type !== 'TimerScheduled') {
        this.pending.delete(timerId);
        continue;
      }
      if (!this.owns(e.metadata.workspaceId, e.metadata.customerId)) continue;
      const dueAt = Date.parse(String(data.dueAt));
      if (Number.isNaN(dueAt)) {
        this.options.logger?.error(`timer ${timerId} in ${e.streamId} has an invalid dueAt "${String(data.dueAt)}": ignored`);
        continue;
      }
      const timer: PendingTimer = { timerId, dueAt, purpose: String(data.purpose), payload: data.payload as Record<string, unknown> | undefined, streamId: e.streamId, scheduled: e };
      this.pending.set(timerId, timer);
      this.heap.push(timer);
    }
  }

  /** Arms one clock timeout for the earliest pending timer (entries of fired or cancelled timers are dropped lazily). */
  private arm(): void {
    if (this.stopped) return;
    let next = this.heap.peek();
    while (next && this.pending.get(next.timerId) !== next) {
      this.heap.pop();
      next = this.heap.peek();
    }
    const at = next ? Math.max(next.dueAt, this.notBefore) : undefined;
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
    if (this.stopped) return;
    const now = this.clock.now();
    const due: PendingTimer[] = [];
    for (let top = this.heap.peek(); top && top.dueAt <= now.getTime(); top = this.heap.peek()) {
      this.heap.pop();
      if (this.pending.get(top.timerId) === top) due.push(top);
    }
    try {
      for (let i = 0; i < due.length; i += FIRE_CHUNK) {
        const chunk = due.slice(i, i + FIRE_CHUNK);
        const requests = chunk.map((t) => ({ streamId: t.streamId, events: [firedEvent(t, now)], expectedRevision: 'any' as const }));
        reportAppended(requests, await this.options.store.appendMany(requests), this.options.onAppended);
        for (const t of chunk) if (this.pending.get(t.timerId) === t) this.pending.delete(t.timerId);
      }
      this.lastError = undefined;
    } catch (error) {
      this.lastError = error instanceof Error ? error : new Error(String(error));
      this.options.logger?.error(`timer scheduler could not fire ${due.length} timer(s), retrying: ${this.lastError.message}`);
      for (const t of due) if (this.pending.get(t.timerId) === t) this.heap.push(t);
      this.notBefore = now.getTime() + (this.options.retryMs ?? 1000);
    }
    this.arm();
  }
}

function firedEvent(timer: PendingTimer, now: Date): JourneyEvent {
  const { workspaceId, customerId, correlationId } = timer.scheduled.metadata;
  return {
    id: deterministicId('timer-fired', timer.timerId),
    type: 'TimerFired',
    data: { timerId: timer.timerId, purpose: timer.purpose, ...(timer.payload ? { payload: timer.payload } : {}) },
    metadata: {
      workspaceId,
      customerId,
      occurredAt: new Date(timer.dueAt).toISOString(),
      recordedAt: now.toISOString(),
      causationId: timer.scheduled.id,
      correlationId: correlationId ?? timer.scheduled.id,
      source: 'timer',
      schemaVersion: currentSchemaVersion('TimerFired'),
    },
  };
}
