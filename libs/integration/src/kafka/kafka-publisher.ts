import { Partitioners, type ICustomPartitioner, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { OutboxMessage } from '../outbox/integration-events';
import type { Publisher } from '../outbox/relay';

/** Structured content mode of the CloudEvents Kafka protocol binding: the whole event is the record value. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=UTF-8';

/** The record headers, shared by all records (kafkajs only reads them). */
const CLOUDEVENTS_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': CLOUDEVENTS_CONTENT_TYPE });

export interface KafkaPublisherOptions {
  /**
   * Upper bound of one produce request, in bytes of record values. A partition's share of a request must stay under
   * the broker's `message.max.bytes` (1 MiB by default), so the default is 900 kB.
   */
  maxRequestBytes?: number;
}

/**
 * Publishes outbox messages to Kafka with an idempotent producer (acks = all, one request in flight per broker, so the
 * broker keeps each partition in send order and drops the producer's own retries). Requests are sent one after
 * another and `publish` resolves only when all are acknowledged. After a failure the producer is replaced (a new
 * producer id resets the sequence numbers), so the relay's retry of the batch starts clean.
 */
export class KafkaPublisher implements Publisher {
  readonly kind = 'kafka';
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaPublisherOptions = {},
  ) {}

  async publish(messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.connected();
    try {
      for (const topicMessages of toProduceRequests(messages, this.options.maxRequestBytes)) await producer.sendBatch({ acks: -1, topicMessages });
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async connected(): Promise<Producer> {
    if (this.producer) return this.producer;
    // Bounded retries (about 10 s) instead of kafkajs' endless ones for idempotent producers: a longer outage surfaces
    // to the relay, which replaces the producer and retries the batch (at least once), and `stop()` never hangs.
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: memoisedDefaultPartitioner, retry: { retries: 6, initialRetryTime: 300, maxRetryTime: 3000 } });
    await producer.connect();
    this.producer = producer;
    return producer;
  }
}

/** Most recent keys whose partition is remembered, per partition count. */
const PARTITION_CACHE_SIZE = 100_000;

/**
 * kafkajs' default (Java-compatible murmur2) partitioner, remembering the partition of recent keys: its murmur2 runs on
 * 64-bit emulated integers and costs more than the rest of a record's encoding, while a customer's key recurs often.
 */
export const memoisedDefaultPartitioner: ICustomPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  const byPartitionCount = new Map<number, Map<string, number>>();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (typeof message.key !== 'string' || message.partition != null) return partition(args);
    let cache = byPartitionCount.get(partitionMetadata.length);
    if (!cache) byPartitionCount.set(partitionMetadata.length, (cache = new Map()));
    let p = cache.get(message.key);
    if (p === undefined) {
      if (cache.size >= PARTITION_CACHE_SIZE) cache.clear();
      cache.set(message.key, (p = partition(args)));
    }
    return p;
  };
};

/** Splits the messages, in order, into produce requests of at most `maxBytes` (default 900 kB), each grouped by topic. */
export function toProduceRequests(messages: OutboxMessage[], maxBytes = 900_000): TopicMessages[][] {
  const requests: Array<Map<string, Message[]>> = [];
  let current = new Map<string, Message[]>();
  let bytes = 0;
  for (const { topic, key, event } of messages) {
    const value = JSON.stringify(event);
    if (bytes > 0 && bytes + value.length > maxBytes) {
      requests.push(current);
      current = new Map();
      bytes = 0;
    }
    bytes += value.length;
    let records = current.get(topic);
    if (!records) current.set(topic, (records = []));
    records.push({ key, value, headers: CLOUDEVENTS_HEADERS });
  }
  if (bytes > 0) requests.push(current);
  return requests.map((request) => [...request].map(([topic, records]) => ({ topic, messages: records })));
}
