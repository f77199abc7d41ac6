import type { RecordedEvent } from '@journey/domain';
import { FailurePolicy, type EventStore, type FailureSettings, type SubscriptionHandle } from '@journey/event-store';
import type { Projection } from './projection';
import type { ReadModelStore, ReadModelTarget, SwapReport } from './store.port';

export interface RunnerOptions {
  batchSize?: number;
  /**
   * Live, after a batch shorter than `batchSize`, wait this long before taking the next one, so that the events
   * appended meanwhile are applied together in one transaction instead of one transaction per append. Default 10 ms.
   */
  coalesceMs?: number;
  /** Wait before retrying a failed batch (or resubscribing): doubles from `retryDelayMs` (default 500) up to `maxRetryDelayMs` (30 s), forever. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** The subscriber name its dead letters are recorded under (default `projections`). */
  name?: string;
  /** Poison events: attempts before quarantine, and what to call after one (see FailurePolicy). */
  failures?: FailureSettings;
  /** After each applied batch (metrics), per projection. */
  onProgress?: (projection: string, position: bigint) => void;
  /** Every failed attempt (it is retried). */
  onError?: (error: Error) => void;
}

export interface RunnerStatus {
  name: string;
  running: boolean;
  position: bigint;
  lastError?: string;
}

/**
 * Runs projections live, all from one subscription to the log (from the lowest of their checkpoints): each batch goes
 * to the store once for all of them, which writes every projection's documents and checkpoint atomically (SQLite: in
 * one transaction) and skips the events a projection already has. Failures follow the shared FailurePolicy: a
 * transient one (a MongoDB outage) is retried with backoff until it heals, `lastError` set meanwhile; a batch that
 * fails otherwise is applied event by event, and an event the projections or the store keep rejecting is quarantined
 * (a dead letter) so the others are applied. A failed subscription is resubscribed from the stored checkpoints, the
 * retry always rescheduled until it works.
 */
export class ProjectionRunner {
  readonly projections: readonly Projection[];
  private readonly positions = new Map<string, bigint>();
  private running = false;
  private subscription?: SubscriptionHandle;
  private readonly failures: FailurePolicy;
  private waiters: Array<{ position: bigint; resolve: () => void }> = [];

  constructor(
    projections: Projection | readonly Projection[],
    private readonly events: EventStore,
    private readonly store: ReadModelStore,
    private readonly options: RunnerOptions = {},
  ) {
    this.projections = Array.isArray(projections) ? projections : [projections as Projection];
    for (const p of this.projections) this.positions.set(p.name, 0n);
    this.failures = new FailurePolicy({
      minMs: options.retryDelayMs,
      maxMs: options.maxRetryDelayMs,
      ...options.failures,
      subscriber: options.name ?? 'projections',
      store: events,
      probe: () => store.checkpoint(this.projections[0].name),
      onFailure: (error) => options.onError?.(error),
    });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.failures.start();
    for (const p of this.projections) await this.store.prepare(p);
    await this.subscribe();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.failures.stop();
    await this.subscription?.stop();
    this.subscription = undefined;
  }

  status(): RunnerStatus[] {
    return this.projections.map((p) => ({ name: p.name, running: this.running, position: this.positions.get(p.name)!, ...(this.failures.lastError ? { lastError: this.failures.lastError.message } : {}) }));
  }

  /** The position every projection of this runner has reached. */
  get position(): bigint {
    let low: bigint | undefined;
    for (const p of this.positions.values()) if (low === undefined || p < low) low = p;
    return low ?? 0n;
  }

  /** Resolves once every live model of this runner includes `position` (rejects after `timeoutMs`). */
  waitFor(position: bigint, timeoutMs = 10_000): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`projection ${this.projections.map((p) => p.name).join(', ')} did not reach position ${position} within ${timeoutMs} ms (at ${this.position})`));
      }, timeoutMs);
      const waiter = {
        position,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** Rebuilds one projection (by default the first) from zero, pausing this runner meanwhile, and swaps the result in. */
  async rebuild(options: { projection?: string; batchSize?: number } = {}): Promise<RebuildReport> {
    const projection = options.projection === undefined ? this.projections[0] : this.projections.find((p) => p.name === options.projection);
    if (!projection) throw new Error(`this runner has no projection "${options.projection}"`);
    const wasRunning = this.running;
    await this.stop();
    try {
      const report = await rebuildProjection(this.events, this.store, projection, { batchSize: options.batchSize ?? this.options.batchSize });
      this.advance([projection], [report.position]);
      return report;
    } finally {
      if (wasRunning) await this.start();
    }
  }

  private async subscribe(): Promise<void> {
    this.advance(this.projections, await Promise.all(this.projections.map((p) => this.store.checkpoint(p.name))));
    const batchSize = this.options.batchSize ?? 500;
    const coalesceMs = this.options.coalesceMs ?? 10;
    const apply = async (events: RecordedEvent[]) => {
      const positions = await this.store.applyBatches(this.projections, events);
      this.failures.succeeded(); // before waiters see the new position
      this.advance(this.projections, positions);
    };
    const replay = (events: RecordedEvent[]) => this.store.applyBatches(this.projections, events, 'live', { replay: true });
    const subscription = this.events.subscribeToAll({ after: this.position, batchSize }, async (batch) => {
      await this.failures.run(batch, apply);
      for (const e of batch) if (this.failures.isRetryRequest(e)) await this.failures.retry(e, replay);
      if (batch.length < batchSize && coalesceMs > 0 && this.running) await new Promise((resolve) => setTimeout(resolve, coalesceMs));
    });
    this.subscription = subscription;
    subscription.done.catch((error: Error) => {
      if (this.subscription === subscription && this.running) void this.resubscribe(error);
    });
  }

  /** After the subscription failed: waits out the backoff and subscribes again, until it works or the runner stops. */
  private async resubscribe(error: unknown): Promise<void> {
    for (;;) {
      try {
        await this.failures.failed(error, 'the subscription');
        if (!this.running) return;
        await this.subscribe();
        return;
      } catch (e) {
        if (!this.running || this.failures.isStopped) return;
        error = e;
      }
    }
  }

  private advance(projections: readonly Projection[], positions: readonly bigint[]): void {
    projections.forEach((p, i) => {
      this.positions.set(p.name, positions[i]);
      this.options.onProgress?.(p.name, positions[i]);
    });
    const position = this.position;
    const ready = this.waiters.filter((w) => w.position <= position);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.position > position);
    for (const w of ready) w.resolve();
  }
}

export interface RebuildReport extends SwapReport {
  projection: string;
  /** The rebuilt (and live) model includes every event up to here. */
  position: bigint;
  identical: boolean;
  durationMs: number;
}

const SWAP_ATTEMPTS = 10;

/**
 * Rebuilds a projection from zero into fresh collections, brings the live model to the same position, compares the
 * two and swaps the fresh one in: readers never see a half-built model. Works while a live runner in another process
 * keeps projecting (the swap happens only when both are at the same position; otherwise it catches up and retries).
 */
export async function rebuildProjection(events: EventStore, store: ReadModelStore, projection: Projection, options: { batchSize?: number } = {}): Promise<RebuildReport> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 1000;
  await store.prepare(projection);
  await store.startRebuild(projection);
  for (let attempt = 0; attempt < SWAP_ATTEMPTS; attempt++) {
    const head = await events.headPosition();
    const live = await store.checkpoint(projection.name);
    const target = head > live ? head : live;
    await catchUp(events, store, projection, 'rebuild', target, batchSize);
    await catchUp(events, store, projection, 'live', target, batchSize);
    const swap = await store.finishRebuild(projection, target);
    if (swap) {
      const identical = Object.values(swap.differences).every((n) => n === 0);
      return { projection: projection.name, position: target, ...swap, identical, durationMs: Date.now() - started };
    }
  }
  throw new Error(`rebuild of ${projection.name}: the live model kept moving; could not swap after ${SWAP_ATTEMPTS} attempts`);
}

async function catchUp(events: EventStore, store: ReadModelStore, projection: Projection, target: ReadModelTarget, until: bigint, batchSize: number): Promise<void> {
  let position = await store.checkpoint(projection.name, target);
  while (position < until) {
    const batch: RecordedEvent[] = (await events.readAll({ after: position, maxCount: batchSize })).filter((e) => e.position <= until);
    if (batch.length === 0) return;
    position = await store.applyBatch(projection, batch, target);
  }
}
