import type { RecordedEvent } from '@journey/domain';
import {
  BackgroundCheckpoint,
  Processor,
  type AppendRequest,
  type AppendResult,
  type CheckpointStore,
  type EventStore,
  type FailureSettings,
} from '@journey/event-store';
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
 * Runs one reactor on the Processor (checkpoint per reactor and partition): calls `react` per batch of the events of
 * the reactor's filter, appends what it returns (idempotent by event id) and only then moves the checkpoint (in the
 * background, see BackgroundCheckpoint). A crash in between replays the batch; its appends are skipped as duplicates.
 * Keeping up (a batch short of full), the effects are appended `rederivable` (the checkpoint is stored after them, in the
 * same log for SQLite), so the next decision need not wait for their fdatasync; behind (a full batch), it waits for it,
 * which lets the next batch fill up and the work go in fewer, larger commits.
 */
export class ReactorRunner extends Processor {
  readonly checkpointName: string;

  constructor(
    readonly reactor: Reactor,
    options: ReactorRunnerOptions,
  ) {
    const p = options.partition;
    const name = p && p.count > 1 ? `${reactor.name}#${p.index}/${p.count}` : reactor.name;
    const clock = options.clock ?? systemClock;
    const context: ReactorContext = { store: options.store, now: () => clock.now(), owns: ownerOf(p) };
    const react = async (events: RecordedEvent[], derived: boolean) => {
      const appends = (await reactor.react(events, context)).filter((a) => a.events.length > 0);
      if (appends.length > 0)
        reportAppended(appends, await options.store.appendMany(appends, { rederivable: derived }), options.onAppended);
    };
    super({
      name,
      label: `reactor ${reactor.name}`,
      store: options.store,
      filter: reactor.filter,
      batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
      writesOnlyToLog: true,
      checkpoint: new BackgroundCheckpoint(options.checkpoints, name, (e) =>
        options.logger?.error(
          `reactor ${reactor.name}: storing its checkpoint failed (it is stored again after the next batch): ${e.message}`,
        ),
      ),
      handle: (events, { live }) => react(events, live),
      failures: {
        ...options.retry,
        ...options.failures,
        now: () => clock.now(),
        onFailure: (error, delay, what) =>
          options.logger?.error(`reactor ${reactor.name} failed (${what}), retrying in ${delay} ms: ${error.stack ?? error.message}`),
      },
    });
    this.checkpointName = name;
  }
}
