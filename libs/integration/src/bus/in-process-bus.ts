import type { IntegrationEvent, OutboxMessage } from '../outbox/integration-events';
import type { Publisher } from '../outbox/relay';

export type BusHandler = (event: IntegrationEvent, message: { topic: string; key: string }) => Promise<void> | void;

/**
 * The embedded default's integration bus: the relay publishes the same CloudEvents as on Kafka, through the same code
 * path, to subscribers in this process. A subscriber that throws fails the publication, so the relay retries the batch
 * (at least once, like Kafka): handlers must be idempotent by `event.id`.
 */
export class InProcessBus {
  private readonly subscribers = new Set<{ topics?: ReadonlySet<string>; handler: BusHandler }>();

  /** Subscribe to every topic, or to the given ones. Returns the unsubscribe function. */
  subscribe(handler: BusHandler, topics?: string[]): () => void {
    const subscriber = { topics: topics ? new Set(topics) : undefined, handler };
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Delivers in order, one message at a time, to each interested subscriber. */
  async deliver(messages: OutboxMessage[]): Promise<void> {
    for (const { topic, key, event } of messages) {
      for (const { topics, handler } of this.subscribers) {
        if (!topics || topics.has(topic)) await handler(event, { topic, key });
      }
    }
  }
}

export class InProcessPublisher implements Publisher {
  readonly kind = 'in-process';
  constructor(private readonly bus: InProcessBus) {}

  publish(messages: OutboxMessage[]): Promise<void> {
    return this.bus.deliver(messages);
  }

  async close(): Promise<void> {}
}
