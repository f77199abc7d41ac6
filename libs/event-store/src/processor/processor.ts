import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedEvent } from '@journey/domain';
import type { Checkpoint } from '../checkpoint.port';
import { eventFilterPredicate, type EventFilter, type EventStore, type SubscriptionHandle } from '../event-store.port';
import { asError } from '../failures/classify';
import { FailurePolicy, SubscriberStopped, type FailurePolicyOptions } from '../failures/failure-policy';

/** What the handler is told of a batch. */
export interface BatchContext {
  /** The subscription's batch was shorter than `batchSize`: the processor keeps up with the log (it is not catching up). */
  readonly live: boolean;
  /** One of the processor's dead letters, run again alone on a retry request (never live). */
  readonly retry: boolean;
}

export interface ProcessorOptions {
  /** What its dead letters are recorded under and retry requests addressed to (usually its checkpoint name too). */
  name: string;
  /** How its errors name it, e.g. `reactor stage` (default: `name`). */
  label?: string;
  store: EventStore;
  /** Handles a batch, in global order. A batch that fails is retried by the FailurePolicy: effects must be idempotent. */
  handle(events: RecordedEvent[], context: BatchContext): unknown;
  /** Only these events reach `handle`. Applied in memory: the subscription reads the whole log and `position` reaches the head. */
  filter?: EventFilter;
  /**
   * The filter's `eventTypes` are sparse in the log: the store seeks them (SQLite's type index, EventStoreDB's
   * server-side filter) instead of reading everything. `position` then stops at the last event of those types.
   */
  filterInStore?: boolean;
  checkpoint: Checkpoint;
  /**
   * The lowest position whose effects are not done yet (a message waiting to be sent, a batch not yet acknowledged):
   * the checkpoint stays below it. The handler calls `saveCheckpoint()` when it changes.
   */
  holds?: () => bigint | undefined;
  /** Events per batch (default 500). */
  batchSize?: number;
  /** Live, after a batch shorter than `batchSize`, wait this long so that the events appended meanwhile come as one batch. */
  coalesceMs?: number;
  /** Passed to `subscribeToAll`: the handler only appends to this log (see SubscribeOptions). */
  writesOnlyToLog?: boolean;
  /** Run retry requests without holding the subscription up (a delivery may wait out its channel's backoff). */
  retryInBackground?: boolean;
  /** Called when the processor stops, as its subscription ends: end and wait for the handler's own work. */
  onStop?(): Promise<unknown> | void;
  /** The failure policy's settings and logging (the probe defaults to the store's ping). */
  failures?: Omit<FailurePolicyOptions, 'subscriber' | 'store'>;
}

/**
 * A subscriber that owns its Processor (the timers, the dispatcher, the relay, the projections): starting, stopping and
 * failing are the processor's. Its handler's own work in flight ends through `onStop`.
 */
export abstract class ProcessorHandler {
  abstract readonly processor: Processor;

  /** Set while the subscriber is failing (cleared by its next success): what /health reports. */
  get lastError(): Error | undefined {
    return this.processor.lastError;
  }

  start(): Promise<void> {
    return this.processor.start();
  }

  stop(): Promise<void> {
    return this.processor.stop();
  }
}

interface Waiter {
  position: bigint;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * The one subscriber runtime (in the shape of Emmett's processors): subscribes to the log after its checkpoint, hands
 * each batch (the events of its filter) to its handler through the shared FailurePolicy (transient failures retried
 * with backoff, poison events quarantined as dead letters), runs the retry requests of its dead letters, then moves
 * `position` and saves the checkpoint. A failed subscription is resubscribed from `position` after the backoff.
 * `lastError` is what /health reports; `waitFor` lets tests wait for a position. Reactors, projections, timers, the
 * dispatcher and the relay are handlers on it; a new subscriber is a handler and a line of wiring.
 */
export class Processor {
  readonly failures: FailurePolicy;
  readonly name: string;
  private current = 0n;
  private active = false;
  private stopping = new AbortController();
  private running?: Promise<void>;
  private subscription?: SubscriptionHandle;
  private readonly relevant?: (event: RecordedEvent) => boolean;
  private readonly waiters = new Set<Waiter>();
  private readonly retries = new Set<Promise<void>>();

  constructor(private readonly options: ProcessorOptions) {
    this.name = options.name;
    this.failures = new FailurePolicy({
      probe: () => options.store.ping(),
      ...options.failures,
      subscriber: options.name,
      store: options.store,
    });
    if (options.filter) this.relevant = eventFilterPredicate(options.filter);
  }

  /** Set while the processor is failing (cleared by its next success), or while its checkpoint cannot be saved. */
  get lastError(): Error | undefined {
    return this.failures.lastError ?? this.options.checkpoint.lastError;
  }

  /** The global position up to which the log is handled (the checkpoint follows, below what the handler `holds`). */
  get position(): bigint {
    return this.current;
  }

  get isRunning(): boolean {
    return this.active;
  }

  /** Aborted when the processor stops: what the handler's own waits and calls listen to. */
  get signal(): AbortSignal {
    return this.stopping.signal;
  }

  private get label(): string {
    return this.options.label ?? this.name;
  }

  private get batchSize(): number {
    return this.options.batchSize ?? 500;
  }

  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    if (this.stopping.signal.aborted) this.stopping = new AbortController();
    setMaxListeners(0, this.stopping.signal); // every wait of the handler may listen to it
    this.failures.start();
    try {
      this.current = await this.options.checkpoint.load();
    } catch (error) {
      this.active = false; // it may be started again
      throw error;
    }
    this.running = this.run();
  }

  /** Stops taking batches, ends the handler's work (`onStop`), waits for it, and flushes the checkpoint. */
  async stop(): Promise<void> {
    this.active = false;
    this.stopping.abort();
    this.failures.stop();
    await Promise.all([this.subscription?.stop(), this.options.onStop?.()]);
    await this.running;
    await Promise.allSettled([...this.retries]);
    await this.options.checkpoint.flush?.();
    for (const w of this.waiters) w.reject(new Error(`${this.label} stopped at position ${this.current}`));
  }

  /** Resolves once the log is handled up to `position` (rejects after `timeoutMs`, or when the processor stops). */
  waitFor(position: bigint, timeoutMs = 10_000): Promise<void> {
    if (this.current >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          waiter.reject(new Error(`${this.label} did not reach position ${position} within ${timeoutMs} ms (it is at ${this.current})`)),
        timeoutMs,
      );
      const end = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
        settle();
      };
      const waiter: Waiter = { position, resolve: () => end(resolve), reject: (error) => end(() => reject(error)) };
      this.waiters.add(waiter);
    });
  }

  /** Saves the checkpoint at `position`, or just below what the handler still `holds`. */
  saveCheckpoint(): void {
    const held = this.options.holds?.();
    this.options.checkpoint.save?.(held !== undefined && held <= this.current ? held - 1n : this.current);
  }

  private async run(): Promise<void> {
    const { filter, filterInStore, writesOnlyToLog } = this.options;
    const storeFilter = filterInStore ? { eventTypes: [...(filter?.eventTypes ?? []), 'DeadLetterRetryRequested'] } : undefined;
    while (!this.signal.aborted) {
      try {
        this.subscription = this.options.store.subscribeToAll(
          { after: this.current, batchSize: this.batchSize, filter: storeFilter, writesOnlyToLog },
          (events) => this.batch(events),
        );
        await this.subscription.done;
        return; // stopped, or the store was closed
      } catch (error) {
        if (this.signal.aborted) return;
        await this.failures.failed(error, `the subscription at position ${this.current}`).catch(() => undefined);
      }
    }
  }

  private async batch(events: RecordedEvent[]): Promise<void> {
    const live = events.length < this.batchSize;
    const relevant = this.relevant ? events.filter(this.relevant) : events;
    if (relevant.length > 0) await this.failures.run(relevant, (batch) => this.options.handle(batch, { live, retry: false }));
    for (const e of events) if (this.failures.isRetryRequest(e)) await this.retry(e);
    this.current = events[events.length - 1].position;
    this.saveCheckpoint();
    for (const w of this.waiters) if (w.position <= this.current) w.resolve();
    if (live && this.options.coalesceMs && !this.signal.aborted) await sleep(this.options.coalesceMs);
  }

  private async retry(request: RecordedEvent): Promise<void> {
    const run = this.failures.retry(request, (events) => this.options.handle(events, { live: false, retry: true }));
    if (!this.options.retryInBackground) return run;
    const tracked: Promise<void> = run
      .catch((error) => {
        if (!(error instanceof SubscriberStopped)) this.failures.lastError = asError(error);
      })
      .finally(() => this.retries.delete(tracked));
    this.retries.add(tracked);
  }
}
