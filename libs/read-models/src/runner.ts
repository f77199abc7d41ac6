import type { RecordedEvent } from '@journey/domain';
import type { EventStore, SubscriptionHandle } from '@journey/event-store';
import type { Projection } from './projection';
import type { ReadModelStore, ReadModelTarget, SwapReport } from './store.port';

export interface RunnerOptions {
  batchSize?: number;
  /** Wait before resubscribing after a failed batch. */
  retryDelayMs?: number;
  /** After each applied batch (metrics). */
  onProgress?: (position: bigint) => void;
  onError?: (error: Error) => void;
}

export interface RunnerStatus {
  name: string;
  running: boolean;
  position: bigint;
  lastError?: string;
}

/**
 * Runs one projection live: subscribes to the log from the projection's checkpoint and hands each batch to the store,
 * which writes the documents and the checkpoint atomically. A failed batch is retried from the stored checkpoint.
 */
export class ProjectionRunner {
  private position = 0n;
  private running = false;
  private subscription?: SubscriptionHandle;
  private retryTimer?: NodeJS.Timeout;
  private lastError?: Error;
  private waiters: Array<{ position: bigint; resolve: () => void }> = [];

  constructor(
    readonly projection: Projection,
    private readonly events: EventStore,
    private readonly store: ReadModelStore,
    private readonly options: RunnerOptions = {},
  ) {}

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.store.prepare(this.projection);
    await this.subscribe();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    await this.subscription?.stop();
    this.subscription = undefined;
  }

  status(): RunnerStatus {
    return { name: this.projection.name, running: this.running, position: this.position, ...(this.lastError ? { lastError: this.lastError.message } : {}) };
  }

  /** Resolves once the live model includes `position` (rejects after `timeoutMs`). */
  waitFor(position: bigint, timeoutMs = 10_000): Promise<void> {
    if (this.position >= position) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`projection ${this.projection.name} did not reach position ${position} within ${timeoutMs} ms (at ${this.position})`));
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

  /** Rebuilds from zero (pausing this runner meanwhile) and swaps the result in. */
  async rebuild(options: { batchSize?: number } = {}): Promise<RebuildReport> {
    const wasRunning = this.running;
    await this.stop();
    try {
      const report = await rebuildProjection(this.events, this.store, this.projection, { batchSize: options.batchSize ?? this.options.batchSize });
      this.advance(report.position);
      return report;
    } finally {
      if (wasRunning) await this.start();
    }
  }

  private async subscribe(): Promise<void> {
    this.advance(await this.store.checkpoint(this.projection.name));
    const subscription = this.events.subscribeToAll({ after: this.position, batchSize: this.options.batchSize ?? 500 }, async (batch) => {
      this.advance(await this.store.applyBatch(this.projection, batch));
      this.lastError = undefined;
    });
    this.subscription = subscription;
    subscription.done.catch((error: Error) => {
      if (this.subscription !== subscription) return;
      this.lastError = error;
      this.options.onError?.(error);
      if (!this.running) return;
      this.retryTimer = setTimeout(() => {
        if (this.running) this.subscribe().catch((e: Error) => this.options.onError?.(e));
      }, this.options.retryDelayMs ?? 1000);
    });
  }

  private advance(position: bigint): void {
    this.position = position;
    this.options.onProgress?.(position);
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
