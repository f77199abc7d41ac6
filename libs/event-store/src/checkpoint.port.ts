import { asError } from './failures/classify';

/** Where a subscriber (projection, reactor, dispatcher, relay) keeps the last global position it has handled. */
export interface CheckpointStore {
  get(name: string): Promise<bigint | undefined>;
  set(name: string, position: bigint): Promise<void>;
}

export const CHECKPOINT_STORE = Symbol('CHECKPOINT_STORE');

/**
 * A Processor's checkpoint: where it starts, and where it keeps the position it has handled. `BackgroundCheckpoint`
 * keeps it in a CheckpointStore; a handler that stores its position itself, atomically with its effects (the read
 * models), or rebuilds it from the log (the timers) gives only `load`.
 */
export interface Checkpoint {
  /** The position to start after. */
  load(): Promise<bigint>;
  /** The handled position moved (the effects before it are stored): keep it, now or a little later. */
  save?(position: bigint): void;
  /** Resolves once every position given to `save` is kept (or failed: see lastError). Called at stop. */
  flush?(): Promise<void>;
  /** The last save's failure, cleared by the next successful one. */
  readonly lastError?: Error;
}

/**
 * A checkpoint in a CheckpointStore, saved in the background: `save` returns at once, saves run one at a time, and
 * while one is running only the latest position waits for the next (at most one write per `everyMs` if given), so a
 * busy subscriber writes its checkpoint a few times a second instead of after every batch, and never waits for the
 * write lock to go on. Safe for subscribers whose effects are idempotent (every subscriber here): after a crash the
 * subscriber resumes from a position at most a few batches back and replays them as duplicates.
 */
export class BackgroundCheckpoint implements Checkpoint {
  lastError?: Error;
  private saving?: Promise<void>;
  private next?: bigint;
  private stored?: bigint;
  private hurry?: () => void;

  constructor(
    private readonly store: CheckpointStore,
    readonly name: string,
    private readonly onError?: (error: Error) => void,
    private readonly everyMs?: number,
  ) {}

  async load(): Promise<bigint> {
    this.stored = (await this.store.get(this.name)) ?? 0n;
    return this.stored;
  }

  save(position: bigint): void {
    if (this.saving === undefined && position === this.stored) return;
    this.next = position;
    this.saving ??= this.drain();
  }

  async flush(): Promise<void> {
    this.hurry?.();
    while (this.saving) await this.saving;
  }

  private async drain(): Promise<void> {
    while (this.next !== undefined) {
      if (this.everyMs) {
        await new Promise<void>((resolve) => {
          this.hurry = resolve;
          setTimeout(resolve, this.everyMs).unref();
        });
        this.hurry = undefined;
      }
      const position = this.next;
      this.next = undefined;
      if (position !== this.stored) {
        try {
          await this.store.set(this.name, position);
          this.stored = position;
          this.lastError = undefined;
        } catch (error) {
          this.lastError = asError(error);
          this.onError?.(this.lastError);
        }
      }
    }
    this.saving = undefined;
  }
}
