import type { RecordedEvent } from '@journey/domain';
import type { BatchHandler, SubscriptionHandle } from '../event-store.port';
import { Backoff } from '../failures/failure-policy';

/** One server subscription: an object-mode readable stream of raw items, cancelled with `unsubscribe()`. */
export interface SubscriptionSource<Raw> extends AsyncIterable<Raw> {
  /** Items buffered and readable right now. */
  readonly readableLength: number;
  on(event: 'error', listener: (error: Error) => void): unknown;
  unsubscribe(): Promise<void>;
  destroy(): unknown;
}

export interface ResumableSubscriptionOptions<Raw> {
  /** Deliver events strictly after this position (undefined: from the start). */
  after?: bigint;
  batchSize: number;
  /** Opens a server subscription that yields (at least) every event after `after`; it may repeat `after` itself. */
  open(after: bigint | undefined): SubscriptionSource<Raw>;
  /** The port's event for a raw item, or undefined to skip it (system events, events the filter rejects). */
  toEvent(raw: Raw): RecordedEvent | undefined;
  handler: BatchHandler;
  /** Backoff between resubscriptions after a drop: doubles from `initialMs` up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
  /** Told about each drop before the backoff (for logs). */
  onDrop?: (error: unknown, attempt: number) => void;
}

/** A failure that resubscribing cannot cure: the handler threw, or an event could not be read (e.g. no upcaster). */
class Fatal {
  constructor(readonly error: unknown) {}
}

/**
 * A catch-up-then-live subscription that survives drops. Items are read one at a time from the source (so the source
 * is paused, and the server throttled by gRPC flow control, while the handler runs) and grouped into a batch until the
 * batch is full or nothing more is buffered right now. The next batch is read only after the handler's promise
 * resolved. After a drop (error or end of the source) it resubscribes, with backoff, from the last delivered position
 * and skips anything at or before it, so nothing is delivered twice or skipped. A handler error (or an event that cannot
 * be read) is fatal: `done` rejects with it.
 */
export function resumableSubscription<Raw>(options: ResumableSubscriptionOptions<Raw>): SubscriptionHandle {
  const { batchSize, handler } = options;
  const backoff = new Backoff(options.backoff?.initialMs ?? 100, options.backoff?.maxMs ?? 5000);
  let last = options.after;
  let stopped = false;
  let source: SubscriptionSource<Raw> | undefined;
  let interruptSleep: (() => void) | undefined;

  const consume = async (from: SubscriptionSource<Raw>): Promise<void> => {
    let batch: RecordedEvent[] = [];
    for await (const raw of from) {
      if (stopped) return;
      const event = fatalOnThrow(() => options.toEvent(raw));
      if (event && (last === undefined || event.position > last)) batch.push(event);
      if (batch.length > 0 && (batch.length >= batchSize || from.readableLength === 0)) {
        try {
          await handler(batch);
        } catch (error) {
          throw new Fatal(error);
        }
        last = batch[batch.length - 1].position;
        batch = [];
        if (stopped) return;
      }
    }
  };

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!stopped) {
      const before = last;
      source = options.open(last);
      // Errors reach the loop through the iterator; this keeps a late one (after the iterator let go) from crashing.
      source.on('error', () => undefined);
      try {
        await consume(source);
        if (stopped) return;
        throw new Error('subscription ended by the server');
      } catch (error) {
        if (error instanceof Fatal) throw error.error;
        if (stopped) return;
        if (last !== before) {
          // it made progress: a new series of drops
          attempt = 0;
          backoff.reset();
        }
        options.onDrop?.(error, ++attempt);
        const wait = backoff.next();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, wait);
          interruptSleep = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        interruptSleep = undefined;
      } finally {
        await close(source);
      }
    }
  };

  const done = run();
  return {
    done,
    stop: async () => {
      stopped = true;
      interruptSleep?.();
      if (source) await close(source);
      await done.catch(() => undefined);
    },
  };
}

function fatalOnThrow<T>(f: () => T): T {
  try {
    return f();
  } catch (error) {
    throw new Fatal(error);
  }
}

async function close<Raw>(source: SubscriptionSource<Raw>): Promise<void> {
  await source.unsubscribe().catch(() => undefined);
  source.destroy();
}
