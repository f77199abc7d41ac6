import type { RecordedEvent } from '@journey/domain';
import { BackgroundCheckpoint, FailurePolicy, type CheckpointStore, type EventStore, type FailureSettings, type SubscriptionHandle } from '@journey/event-store';
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
  /** Poison events: attempts before quarantine, and what to call after one (see FailurePolicy). */
  failures?: FailureSettings;
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
 *
 * Failures follow the shared FailurePolicy: a transient one (a broker outage) is retried forever with backoff; a batch
 * rejected otherwise `poisonAttempts` times is published message by message, and a message that keeps being rejected
 * (or an event that cannot be mapped) is quarantined as a dead letter so the others go out.
 */
export class OutboxRelay {
  private subscription?: SubscriptionHandle;
  private stopped = false;
  private readonly failures: FailurePolicy;

  constructor(
    private readonly store: EventStore,
    private readonly checkpoints: CheckpointStore,
    private readonly publisher: Publisher,
    private readonly options: RelayOptions,
  ) {
    this.checkpoint = new BackgroundCheckpoint(checkpoints, options.name, (e) => options.logger?.error(`relay ${options.name}: storing its checkpoint failed (retried after the next batch): ${e.message}`));
    this.failures = new FailurePolicy({
      minMs: options.retryDelayMs ?? 500,
      maxMs: options.maxRetryDelayMs ?? 10_000,
      ...options.failures,
      subscriber: options.name,
      store,
      probe: () => store.ping(),
      onFailure: (error, delay, what) => options.logger?.warn(`relay ${options.name}: ${what} failed, retrying in ${delay} ms: ${error.message}`),
    });
  }

  /** The last publication error, cleared by the next acknowledged batch (for /health). */
  get lastError(): Error | undefined {
    return this.failures.lastError;
  }

  /** Stored after each acknowledged batch, in the background (the next batch does not wait for it). */
  private readonly checkpoint: BackgroundCheckpoint;

  async start(): Promise<void> {
    if (this.subscription) throw new Error(`relay ${this.options.name} is already started`);
    const after = (await this.checkpoints.get(this.options.name)) ?? 0n;
    this.subscription = this.store.subscribeToAll(
      { after, batchSize: this.options.batchSize ?? 2000, filter: { eventTypes: [...PUBLISHED_EVENT_TYPES, 'DeadLetterRetryRequested'] } },
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
    this.failures.stop();
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
    let messages: OutboxMessage[] = [];
    let sources: RecordedEvent[] = [];
    let retries: RecordedEvent[] | undefined;
    try {
      for (const e of events) {
        const m = toOutboxMessage(e, prefix);
        if (m) {
          messages.push(m);
          sources.push(e);
        } else if (this.failures.isRetryRequest(e)) (retries ??= []).push(e);
      }
    } catch (error) {
      ({ messages, sources } = await this.mapOneByOne(events, prefix, error));
    }
    const position = events[events.length - 1].position;
    // After a failure the batches handed over behind it are sent again first, each in its turn, before a new one.
    while (this.failed && this.inFlight.length > 0) await this.inFlight[this.inFlight.length - 1].catch(() => undefined);
    this.failed = false;
    if (this.stopped) throw new RelayStopped();
    if (retries) await this.retryDeadLetters(retries, prefix);
    const sent = this.publisher.publish(messages);
    sent.catch(() => undefined); // settled in its turn (below), possibly after it failed
    const previous = this.inFlight[this.inFlight.length - 1] ?? Promise.resolve();
    const settled = previous.then(() => this.settle(messages, sources, position, sent));
    this.inFlight.push(settled);
    // Handles its failure here too: the subscription sees the error when it waits for this batch.
    void settled.finally(() => this.inFlight.splice(this.inFlight.indexOf(settled), 1)).catch(() => undefined);
    // The subscription hands over the next batch at once while fewer than `maxInFlight` are unacknowledged.
    while (this.inFlight.length >= (this.publisher.maxInFlight ?? 1)) await this.inFlight[0];
  }

  /** A batch with an event that cannot be mapped: maps event by event, the ones that keep failing quarantined. */
  private async mapOneByOne(events: RecordedEvent[], prefix: string, error: unknown): Promise<{ messages: OutboxMessage[]; sources: RecordedEvent[] }> {
    const messages: OutboxMessage[] = [];
    const sources: RecordedEvent[] = [];
    for (const e of events) {
      await this.policy(() =>
        this.failures.runOne(e, () => {
          const m = toOutboxMessage(e, prefix);
          if (m) {
            messages.push(m);
            sources.push(e);
          }
        }),
      );
    }
    this.options.logger?.warn(`relay ${this.options.name}: mapped a batch event by event after: ${(error as Error).message}`);
    return { messages, sources };
  }

  /** Retry requests of this relay's dead letters: published alone, once every batch before them is settled. */
  private async retryDeadLetters(requests: RecordedEvent[], prefix: string): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight[0].catch(() => undefined);
    for (const request of requests) {
      await this.policy(() => this.failures.retry(request, ([e]) => this.publisher.publish([toOutboxMessage(e, prefix)!].filter(Boolean))));
    }
  }

  /** Runs a policy loop, ending it as the relay's stop does. */
  private async policy<T>(loop: () => Promise<T>): Promise<T> {
    try {
      return await loop();
    } catch (error) {
      if (this.stopped) throw new RelayStopped();
      throw error;
    }
  }

  /**
   * Waits for a batch's acknowledgement, retries it until acknowledged, then checkpoints (batches settle in order). A
   * batch rejected `poisonAttempts` times, not for an outage, is published message by message (quarantining the ones
   * that keep failing).
   */
  private async settle(messages: OutboxMessage[], sources: RecordedEvent[], position: bigint, sent: Promise<void>): Promise<void> {
    let rejected = 0;
    for (let attempt = sent; ; attempt = this.publisher.publish(messages)) {
      try {
        await attempt;
        this.failures.succeeded();
        break;
      } catch (error) {
        this.failed = true;
        if (this.stopped) throw new RelayStopped();
        if (error instanceof BatchNotSent) continue; // behind a failed batch, which has just gone through: send it now
        const what = `publishing ${messages.length} events up to position ${position}`;
        const verdict = await this.failures.judge(error, rejected + 1, what);
        if (!verdict.transient) rejected += 1;
        if (verdict.quarantine && messages.length > 0) {
          for (let i = 0; i < messages.length; i++) await this.policy(() => this.failures.runOne(sources[i], () => this.publisher.publish([messages[i]])));
          break;
        }
        if (verdict.quarantine) rejected = 0;
        await this.policy(() => this.failures.sleepFor(verdict.retryInMs));
      }
    }
    this.checkpoint.save(position);
    this.options.onPublished?.(messages.length, position);
  }
}
