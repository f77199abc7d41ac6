import type { RecordedEvent } from '@journey/domain';
import {
  BackgroundCheckpoint,
  Processor,
  ProcessorHandler,
  type CheckpointStore,
  type EventStore,
  type FailureSettings,
} from '@journey/event-store';
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

/** How a publisher fails a batch handed over after one that failed: it was not sent, and is sent again in its turn. */
export class BatchNotSent extends Error {
  constructor() {
    super('not sent: a batch handed over before it failed');
  }
}

/**
 * The outbox relay, a handler on the Processor: the event log is the outbox. It maps each published event to a
 * CloudEvent and hands the batch to the publisher; only once the publisher has acknowledged the whole batch
 * (and every batch before it) does it store the checkpoint. A crash or a failed publication therefore replays the
 * batch: delivery is at least once, in log order (hence in order per customer key); consumers dedupe by the CloudEvents
 * `id`. A failed batch is retried with backoff until it goes through or the relay is stopped, then the batches handed
 * over after it (which the publisher failed unsent) in their order: a broker outage pauses the relay, it never skips
 * or reorders events. While the publisher sends a batch, the relay reads and maps the next (`Publisher.maxInFlight`).
 *
 * Failures follow the shared FailurePolicy: a transient one (a broker outage) is retried forever with backoff; a batch
 * rejected otherwise `poisonAttempts` times is published message by message, and a message that keeps being rejected
 * (or an event that cannot be mapped) is quarantined as a dead letter so the others go out. `stop()` stops after the
 * batch in flight; an unacknowledged batch is not checkpointed and will be published again.
 */
export class OutboxRelay extends ProcessorHandler {
  readonly processor: Processor;
  private readonly prefix: string;
  /** Batches handed to the publisher and not yet settled (acknowledged and checkpointed), oldest first. */
  private readonly inFlight: Array<{ first: bigint; acked: boolean; settled: Promise<void> }> = [];
  /** A publication failed since the relay last handed over a new batch. */
  private failed = false;

  constructor(
    store: EventStore,
    checkpoints: CheckpointStore,
    private readonly publisher: Publisher,
    private readonly options: RelayOptions,
  ) {
    super();
    this.prefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    this.processor = new Processor({
      name: options.name,
      label: `relay ${options.name}`,
      store,
      filter: { eventTypes: PUBLISHED_EVENT_TYPES },
      filterInStore: true,
      batchSize: options.batchSize ?? 2000,
      // Stored in the background, only over acknowledged batches: never past the oldest batch in flight.
      checkpoint: new BackgroundCheckpoint(checkpoints, options.name, (e) =>
        options.logger?.error(`relay ${options.name}: storing its checkpoint failed (retried after the next batch): ${e.message}`),
      ),
      holds: () => this.inFlight.find((b) => !b.acked)?.first,
      handle: (events, { retry }) => (retry ? this.republish(events[0]) : this.relay(events)),
      onStop: async () => {
        await publisher.close(); // aborts a publication in flight (a broker outage must not hold the shutdown)
        await Promise.allSettled(this.inFlight.map((b) => b.settled));
      },
      failures: {
        minMs: options.retryDelayMs ?? 500,
        maxMs: options.maxRetryDelayMs ?? 10_000,
        ...options.failures,
        onFailure: (error, delay, what) =>
          options.logger?.warn(`relay ${options.name}: ${what} failed, retrying in ${delay} ms: ${error.message}`),
      },
    });
  }

  /** Maps a batch (an event that cannot be mapped throws: the policy then relays event by event) and hands it over. */
  private async relay(events: RecordedEvent[]): Promise<void> {
    const messages = events.map((e) => toOutboxMessage(e, this.prefix)!);
    // After a failure the batches handed over behind it are sent again first, each in its turn, before a new one.
    while (this.failed && this.inFlight.length > 0) await this.inFlight[this.inFlight.length - 1].settled.catch(() => undefined);
    this.failed = false;
    this.processor.signal.throwIfAborted();
    const sent = this.publisher.publish(messages);
    sent.catch(() => undefined); // settled in its turn (below), possibly after it failed
    const previous = this.inFlight[this.inFlight.length - 1]?.settled ?? Promise.resolve();
    const batch = { first: events[0].position, acked: false, settled: Promise.resolve() };
    batch.settled = previous.then(() => this.settle(batch, messages, events, sent));
    this.inFlight.push(batch);
    // Handles its failure here too: the subscription sees the error when it waits for this batch.
    void batch.settled.finally(() => this.inFlight.splice(this.inFlight.indexOf(batch), 1)).catch(() => undefined);
    // The subscription hands over the next batch at once while fewer than `maxInFlight` are unacknowledged.
    while (this.inFlight.length >= (this.publisher.maxInFlight ?? 1)) await this.inFlight[0].settled;
  }

  /** A retry request of one of this relay's dead letters: published alone, once every batch before it is settled. */
  private async republish(event: RecordedEvent): Promise<void> {
    while (this.inFlight.length > 0) await this.inFlight[0].settled.catch(() => undefined);
    await this.publisher.publish([toOutboxMessage(event, this.prefix)!]);
  }

  /**
   * Waits for a batch's acknowledgement, retries it until acknowledged, then checkpoints (batches settle in order). A
   * batch rejected `poisonAttempts` times, not for an outage, is published message by message (quarantining the ones
   * that keep failing).
   */
  private async settle(batch: { acked: boolean }, messages: OutboxMessage[], sources: RecordedEvent[], sent: Promise<void>): Promise<void> {
    const { failures } = this.processor;
    const position = sources[sources.length - 1].position;
    let rejected = 0;
    for (let attempt = sent; ; attempt = this.publisher.publish(messages)) {
      try {
        await attempt;
        failures.succeeded();
        break;
      } catch (error) {
        this.failed = true;
        if (this.processor.signal.aborted) throw error;
        if (error instanceof BatchNotSent) continue; // behind a failed batch, which has just gone through: send it now
        const verdict = await failures.judge(error, rejected + 1, `publishing ${messages.length} events up to position ${position}`);
        if (!verdict.transient) rejected += 1;
        if (verdict.quarantine) {
          for (let i = 0; i < messages.length; i++) await failures.runOne(sources[i], () => this.publisher.publish([messages[i]]));
          break;
        }
        await failures.sleepFor(verdict.retryInMs);
      }
    }
    batch.acked = true;
    this.processor.saveCheckpoint();
    this.options.onPublished?.(messages.length, position);
  }
}
