/** Where a subscriber (projection, reactor, dispatcher, relay) keeps the last global position it has handled. */
export interface CheckpointStore {
  get(name: string): Promise<bigint | undefined>;
  set(name: string, position: bigint): Promise<void>;
}

export const CHECKPOINT_STORE = Symbol('CHECKPOINT_STORE');

/**
 * A subscriber's checkpoint, saved in the background: `save` returns at once, saves run one at a time, and while one
 * is running only the latest position waits for the next, so a busy subscriber writes its checkpoint a few times a
 * second instead of after every batch, and never waits for the write lock to go on. Safe for subscribers whose effects
 * are idempotent (every subscriber here): call `save` only once the batch's effects are stored; after a crash the
 * subscriber resumes from a position at most a few batches back and replays them as duplicates.
 */
export class BackgroundCheckpoint {
  /** The last save's failure, cleared by the next successful one. */
  lastError?: Error;
  private saving?: Promise<void>;
  private next?: bigint;

  constructor(
    private readonly store: CheckpointStore,
    readonly name: string,
    private readonly onError?: (error: Error) => void,
  ) {}

  save(position: bigint): void {
    this.next = position;
    this.saving ??= this.drain();
  }

  /** Resolves once every position given to `save` so far is stored (or its save failed: see lastError). */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }

  private async drain(): Promise<void> {
    while (this.next !== undefined) {
      const position = this.next;
      this.next = undefined;
      try {
        await this.store.set(this.name, position);
        this.lastError = undefined;
      } catch (error) {
        this.lastError = error instanceof Error ? error : new Error(String(error));
        this.onError?.(this.lastError);
      }
    }
    this.saving = undefined;
  }
}
