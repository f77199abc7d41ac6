import type { RecordedEvent } from '@journey/domain';
import { BackgroundCheckpoint, eventFilterPredicate, FailurePolicy, type AppendRequest, type AppendResult, type CheckpointStore, type EventStore, type FailureSettings, type SubscriptionHandle } from '@journey/event-store';
import { systemClock, type Clock } from './clock';
import { ownerOf, type Partition } from './partition';
import type { Reactor, ReactorContext } from './reactor';

export interface ReactorLogger {
  log(message: string): void;
  error(message: string): void;
}

const DEFAULT_BATCH_SIZE = 500;

export type AppendedCallback = (written: number, duplicates: number) => void;

/** Reports what `appendMany` wrote of the events asked for; the rest were already in the store (ids are deterministic). */
export function reportAppended(requests: AppendRequest[], results: AppendResult[], callback?: AppendedCallback): void {
  if (!callback) return;
  const written = results.reduce((n, r) => n + r.written, 0);
  callback(written, requests.reduce((n, r) => n + r.events.length, 0) - written);
}

export interface ReactorRunnerOptions {
  store: EventStore;
  checkpoints: CheckpointStore;
  clock?: Clock;
  /** Customers this process handles; the checkpoint is kept per partition. */
  partition?: Partition;
  logger?: ReactorLogger;
  /** After each append: events written, and events found already stored (a replay, or another process that acted). */
  onAppended?: AppendedCallback;
  batchSize?: number;
  /** Back-off between retries after a failure: doubles from `minMs` up to `maxMs`. */
  retry?: { minMs: number; maxMs: number };
  /** Poison events: attempts before quarantine, and what to call after one (see FailurePolicy). */
  failures?: FailureSettings;
}

/**
 * Runs one reactor: subscribes to the log from the reactor's checkpoint, calls `react` per batch, appends what it
 * returns (idempotent by event id) and only then stores the checkpoint (in the background, see BackgroundCheckpoint:
 * the next batch does not wait for it). Failures follow the shared FailurePolicy: a transient one (the store) is retried
 * with back-off until it heals; a batch that fails otherwise is retried event by event, and an event that keeps failing
 * is quarantined (a dead letter in the log) so the reactor goes on with the other customers. A failed subscription
 * restarts from the last checkpoint after a back-off; the batch is replayed and its appends are skipped as duplicates.
 * Retry requests for the reactor's dead letters (`DeadLetterRetryRequested`) are run as they come in the log.
 *
 * The subscription reads the whole log and applies the reactor's filter in memory, so `position` always reaches the
 * head (what `waitFor` relies on), whichever events the reactor cares about.
 */
export class ReactorRunner {
  readonly checkpointName: string;
  private current = 0n;
  private readonly failures: FailurePolicy;
  private readonly context: ReactorContext;
  private readonly checkpoint: BackgroundCheckpoint;
  /** The reactor's filter as a predicate (undefined: every event), built once. */
  private readonly relevant?: (event: RecordedEvent) => boolean;
  private subscription?: SubscriptionHandle;
  private running?: Promise<void>;
  private stopped = false;
  private readonly waiters = new Set<{ position: bigint; resolve: () => void; reject: (e: Error) => void }>();

  constructor(
    readonly reactor: Reactor,
    private readonly options: ReactorRunnerOptions,
  ) {
    const p = options.partition;
    this.checkpointName = p && p.count > 1 ? `${reactor.name}#${p.index}/${p.count}` : reactor.name;
    const clock = options.clock ?? systemClock;
    this.context = { store: options.store, now: () => clock.now(), owns: ownerOf(p) };
    if (reactor.filter) this.relevant = eventFilterPredicate(reactor.filter);
    this.checkpoint = new BackgroundCheckpoint(options.checkpoints, this.checkpointName, (e) =>
      options.logger?.error(`reactor ${reactor.name}: storing its checkpoint failed (it is stored again after the next batch): ${e.message}`),
    );
    this.failures = new FailurePolicy({
      ...options.retry,
      ...options.failures,
      subscriber: this.checkpointName,
      store: options.store,
      probe: () => options.store.ping(),
      now: () => clock.now(),
      onFailure: (error, delay, what) => options.logger?.error(`reactor ${reactor.name} failed at position ${this.current} (${what}), retrying in ${delay} ms: ${error.stack ?? error.message}`),
    });
  }

  /** Set while the runner is failing (cleared by the next successful batch): what /health reports. */
  get lastError(): Error | undefined {
    return this.failures.lastError ?? this.checkpoint.lastError;
  }

  private get batchSize(): number {
    return this.options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  /** The global position up to which the reactor has handled the log (its checkpoint follows in the background). */
  get position(): bigint {
    return this.current;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.current = (await this.options.checkpoints.get(this.checkpointName)) ?? 0n;
    this.failures.start();
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.failures.stop();
    await this.subscription?.stop();
    await this.running;
    await this.checkpoint.flush();
    for (const w of this.waiters) w.reject(new Error(`reactor ${this.reactor.name} stopped at position ${this.current}`));
    this.waiters.clear();
  }

  /** Resolves once the reactor has handled the log up to `position` (rejects after `timeoutMs`). */
  waitFor(position: bigint, timeoutMs = 10_000): Promise<void> {
    if (this.current >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`reactor ${this.reactor.name} did not reach position ${position} within ${timeoutMs} ms (it is at ${this.current})`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const after = (await this.options.checkpoints.get(this.checkpointName)) ?? 0n;
        if (this.stopped) return;
        this.current = after;
        this.subscription = this.options.store.subscribeToAll({ after, batchSize: this.batchSize, writesOnlyToLog: true }, (events) => this.handle(events));
        await this.subscription.done;
        return; // stopped, or the store was closed
      } catch (error) {
        if (this.stopped) return;
        await this.failures.failed(error, `its subscription at position ${this.current}`).catch(() => undefined);
      }
    }
  }

  private async handle(events: RecordedEvent[]): Promise<void> {
    const relevant = this.relevant ? events.filter(this.relevant) : events;
    // Keeping up (a batch short of full): the effects are derived (the checkpoint is stored after them, in the same
    // log for SQLite), so the next decision need not wait for their fdatasync. Behind (a full batch): wait for it,
    // which lets the next batch fill up and the work go in fewer, larger commits.
    const derived = events.length < this.batchSize;
    if (relevant.length > 0) await this.failures.run(relevant, (batch) => this.react(batch, derived));
    for (const e of events) if (this.failures.isRetryRequest(e)) await this.failures.retry(e, (batch) => this.react(batch, false));
    const last = events[events.length - 1].position;
    this.checkpoint.save(last);
    this.current = last;
    for (const w of this.waiters) {
      if (w.position <= last) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  private async react(events: RecordedEvent[], derived: boolean): Promise<void> {
    const appends = (await this.reactor.react(events, this.context)).filter((a) => a.events.length > 0);
    if (appends.length > 0) reportAppended(appends, await this.options.store.appendMany(appends, { rederivable: derived }), this.options.onAppended);
  }
}
