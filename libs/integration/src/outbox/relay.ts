import type { RecordedEvent } from '@journey/domain';
import { BackgroundCheckpoint, type CheckpointStore, type EventStore, type SubscriptionHandle } from '@journey/event-store';
import { DEFAULT_TOPIC_PREFIX, PUBLISHED_EVENT_TYPES, toOutboxMessage, type OutboxMessage } from './integration-events';

/**
 * Where the relay publishes: Kafka (`KafkaPublisher`) in scale-out, the in-process bus (`InProcessPublisher`) in the
 * embedded default. `publish` resolves only when every message is acknowledged (for Kafka: written to all in-sync
 * replicas), in the given order per key; it rejects when any message may not have been.
 */
export interface Publisher {
  readonly kind: string;
  /**
   * How many batches may be handed over before the first is acknowledged (default 1). A publisher that takes more
   * sends them in order, and fails every batch handed over after a failed one without sending it.
   */
  readonly maxInFlight?: number;
  publish(messages: OutboxMessage[]): Promise<void>;
  close(): Promise<void>;
}

/** Minimal logger the libraries accept (the engine passes Nest's). */
export interface IntegrationLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface RelayOptions {
  /** Checkpoint name, e.g. `relay:kafka`. */
  name: string;
  topicPrefix?: string;
  /** Events read from the log per batch (default 2,000). */
  batchSize?: number;
  /** Wait before retrying a batch whose publication failed: doubles from `retryDelayMs` up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  logger?: IntegrationLogger;
  /** Called after each batch is acknowledged and checkpointed (metrics). */
  onPublished?: (count: number, position: bigint) => void;
}

class RelayStopped extends Error {}

/** How a publisher fails a batch handed over after one that failed: it was not sent, and is sent again in its turn. */
export class BatchNotSent extends Error {
  constructor() {
    super('not sent: a batch handed over before it failed');
  }
}

/**
 * The outbox relay: the event log is the outbox. It subscribes to the log from its checkpoint, maps each published
 * event to a CloudEvent and hands the batch to the publisher; only once the publisher has acknowledged the whole batch
 * (and every batch before it) does it store the checkpoint. A crash or a failed publication therefore replays the
 * batch: delivery is at least once, in log order (hence in order per customer key); consumers dedupe by the CloudEvents
 * `id`. A failed batch is retried with backoff until it goes through or the relay is stopped, then the batches handed
 * over after it (which the publisher failed unsent) in their order: a broker outage pauses the relay, it never skips
 * or reorders events. While the publisher sends a batch, the relay reads and maps the next (`Publisher.maxInFlight`).
 */
export class OutboxRelay {
  private subscription?: SubscriptionHandle;
  private stopped = false;
  private wakeRetry?: () => void;
  /** The last publication error, cleared by the next acknowledged batch (for /health). */
  lastError?: Error;

  constructor(
    private readonly store: EventStore,
    private readonly checkpoints: CheckpointStore,
    private readonly publisher: Publisher,
    private readonly options: RelayOptions,
  ) {
    this.checkpoint = new BackgroundCheckpoint(checkpoints, options.name, (e) => options.logger?.error(`relay ${options.name}: storing its checkpoint failed (retried after the next batch): ${e.message}`));
  }

  /** Stored after each acknowledged batch, in the background (the next batch does not wait for it). */
  private readonly checkpoint: BackgroundCheckpoint;

  async start(): Promise<void> {
    if (this.subscription) throw new Error(`relay ${this.options.name} is already started`);
    const after = (await this.checkpoints.get(this.options.name)) ?? 0n;
    this.subscription = this.store.subscribeToAll(
      { after, batchSize: this.options.batchSize ?? 2000, filter: { eventTypes: PUBLISHED_EVENT_TYPES } },
      (events) => this.relay(events),
    );
    this.subscription.done.catch((error: unknown) => {
      if (!(error instanceof RelayStopped)) this.options.logger?.error(`relay ${this.options.name} stopped: ${(error as Error).message}`);
    });
  }

  /** Resolves when the subscription has ended (rejects on a fatal error other than `stop()`). */
  get done(): Promise<void> {
    if (!this.subscription) return Promise.resolve();
    return this.subscription.done.catch((error: unknown) => {
      if (!(error instanceof RelayStopped)) throw error;
    });
  }

  /** Stops after the batch in flight; an unacknowledged batch is not checkpointed and will be published again. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    // Closing the publisher aborts a publication in flight (a broker outage must not hold the shutdown).
    await Promise.all([this.subscription?.stop(), this.publisher.close()]);
    await Promise.allSettled(this.inFlight);
    await this.checkpoint.flush();
  }

  /** Batches handed to the publisher and not yet settled (acknowledged and checkpointed), oldest first. */
  private readonly inFlight: Array<Promise<void>> = [];
  /** A publication failed since the relay last handed over a new batch. */
  private failed = false;

  private async relay(events: RecordedEvent[]): Promise<void> {
    const prefix = this.options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    const messages = events.map((e) => toOutboxMessage(e, prefix)).filter((m): m is OutboxMessage => m !== undefined);
    const position = events[events.length - 1].position;
    // After a failure the batches handed over behind it are sent again first, each in its turn, before a new one.
    while (this.failed && this.inFlight.length > 0) await this.inFlight[this.inFlight.length - 1].catch(() => undefined);
    this.failed = false;
    if (this.stopped) throw new RelayStopped();
    const sent = this.publisher.publish(messages);
    sent.catch(() => undefined); // settled in its turn (below), possibly after it failed
    const previous = this.inFlight[this.inFlight.length - 1] ?? Promise.resolve();
    const settled = previous.then(() => this.settle(messages, position, sent));
    this.inFlight.push(settled);
    // Handles its failure here too: the subscription sees the error when it waits for this batch.
    void settled.finally(() => this.inFlight.splice(this.inFlight.indexOf(settled), 1)).catch(() => undefined);
    // The subscription hands over the next batch at once while fewer than `maxInFlight` are unacknowledged.
    while (this.inFlight.length >= (this.publisher.maxInFlight ?? 1)) await this.inFlight[0];
  }

  /** Waits for a batch's acknowledgement, retries it until acknowledged, then checkpoints (batches settle in order). */
  private async settle(messages: OutboxMessage[], position: bigint, sent: Promise<void>): Promise<void> {
    let delay = this.options.retryDelayMs ?? 500;
    for (let attempt = sent; ; attempt = this.publisher.publish(messages)) {
      try {
        await attempt;
        this.lastError = undefined;
        break;
      } catch (error) {
        this.failed = true;
        if (this.stopped) throw new RelayStopped();
        if (error instanceof BatchNotSent) continue; // behind a failed batch, which has just gone through: send it now
        this.lastError = error as Error;
        this.options.logger?.warn(`relay ${this.options.name}: publishing ${messages.length} events up to position ${position} failed, retrying in ${delay} ms: ${(error as Error).message}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        delay = Math.min(delay * 2, this.options.maxRetryDelayMs ?? 10_000);
        if (this.stopped) throw new RelayStopped();
      }
    }
    this.checkpoint.save(position);
    this.options.onPublished?.(messages.length, position);
  }
}
