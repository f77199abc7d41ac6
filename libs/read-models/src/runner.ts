import type { RecordedEvent } from '@journey/domain';
import { Processor, ProcessorHandler, type EventStore, type FailureSettings } from '@journey/event-store';
import type { Projection } from './projection';
import type { ReadModelStore, ReadModelTarget, SwapReport } from './store.port';

export interface RunnerOptions {
  batchSize?: number;
  /**
   * Live, after a batch shorter than `batchSize`, wait this long before taking the next one, so that the events
   * appended meanwhile are applied together in one transaction instead of one transaction per append. Default 10 ms.
   */
  coalesceMs?: number;
  /**
   * Wait before retrying a failed batch (or resubscribing): doubles from `retryDelayMs` (default 500) up to
   * `maxRetryDelayMs` (30 s), forever.
   */
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
 * Runs projections live on the Processor, all from one subscription to the log (from the lowest of their
 * checkpoints): each batch goes to the store once for all of them, which writes every projection's documents and
 * checkpoint atomically (SQLite: in one transaction) and skips the events a projection already has, so the checkpoint
 * is the store's, not the processor's. A dead letter's retry is applied as a replay (the checkpoint stays).
 */
export class ProjectionRunner extends ProcessorHandler {
  readonly projections: readonly Projection[];
  readonly processor: Processor;
  private readonly positions = new Map<string, bigint>();

  constructor(
    projections: Projection | readonly Projection[],
    private readonly events: EventStore,
    private readonly store: ReadModelStore,
    private readonly options: RunnerOptions = {},
  ) {
    super();
    this.projections = Array.isArray(projections) ? projections : [projections as Projection];
    for (const p of this.projections) this.positions.set(p.name, 0n);
    this.processor = new Processor({
      name: options.name ?? 'projections',
      label: `projection ${this.projections.map((p) => p.name).join(', ')}`,
      store: events,
      batchSize: options.batchSize,
      coalesceMs: options.coalesceMs ?? 10,
      checkpoint: { load: () => this.load() },
      handle: async (batch, { retry }) => {
        if (retry) await store.applyBatches(this.projections, batch, 'live', { replay: true });
        else this.advance(this.projections, await store.applyBatches(this.projections, batch));
      },
      failures: {
        minMs: options.retryDelayMs,
        maxMs: options.maxRetryDelayMs,
        ...options.failures,
        probe: () => store.checkpoint(this.projections[0].name),
        onFailure: (error) => options.onError?.(error),
      },
    });
  }

  status(): RunnerStatus[] {
    const { isRunning: running, lastError } = this.processor;
    return this.projections.map((p) => ({
      name: p.name,
      running,
      position: this.positions.get(p.name)!,
      ...(lastError ? { lastError: lastError.message } : {}),
    }));
  }

  /** The position every projection of this runner has reached. */
  get position(): bigint {
    return this.processor.position;
  }

  /** Resolves once every live model of this runner includes `position` (rejects after `timeoutMs`). */
  waitFor(position: bigint, timeoutMs = 10_000): Promise<void> {
    return this.processor.waitFor(position, timeoutMs);
  }

  /** Rebuilds one projection (by default the first) from zero, pausing this runner meanwhile, and swaps the result in. */
  async rebuild(options: { projection?: string; batchSize?: number } = {}): Promise<RebuildReport> {
    const projection = options.projection === undefined ? this.projections[0] : this.projections.find((p) => p.name === options.projection);
    if (!projection) throw new Error(`this runner has no projection "${options.projection}"`);
    const wasRunning = this.processor.isRunning;
    await this.stop();
    try {
      const report = await rebuildProjection(this.events, this.store, projection, {
        batchSize: options.batchSize ?? this.options.batchSize,
      });
      this.advance([projection], [report.position]);
      return report;
    } finally {
      if (wasRunning) await this.start();
    }
  }

  /** Where the processor starts: the lowest of the stored checkpoints (the store's, kept with the documents). */
  private async load(): Promise<bigint> {
    for (const p of this.projections) await this.store.prepare(p);
    this.advance(this.projections, await Promise.all(this.projections.map((p) => this.store.checkpoint(p.name))));
    return [...this.positions.values()].reduce((low, p) => (p < low ? p : low));
  }

  private advance(projections: readonly Projection[], positions: readonly bigint[]): void {
    projections.forEach((p, i) => {
      this.positions.set(p.name, positions[i]);
      this.options.onProgress?.(p.name, positions[i]);
    });
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
export async function rebuildProjection(
  events: EventStore,
  store: ReadModelStore,
  projection: Projection,
  options: { batchSize?: number } = {},
): Promise<RebuildReport> {
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

async function catchUp(
  events: EventStore,
  store: ReadModelStore,
  projection: Projection,
  target: ReadModelTarget,
  until: bigint,
  batchSize: number,
): Promise<void> {
  let position = await store.checkpoint(projection.name, target);
  while (position < until) {
    const batch: RecordedEvent[] = (await events.readAll({ after: position, maxCount: batchSize })).filter((e) => e.position <= until);
    if (batch.length === 0) return;
    position = await store.applyBatch(projection, batch, target);
  }
}
