import { Worker } from 'node:worker_threads';
import { logLevel, type Message, type TopicMessages } from 'kafkajs';
import type { OutboxMessage } from '../outbox/integration-events';
import { markTransient } from '@journey/event-store';
import { BatchNotSent, type Publisher } from '../outbox/relay';
import { kafkaConfig, kafkaLogLine, type KafkaClientOptions } from './kafka-client';

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
 * The producer thread (plain JavaScript, evaluated by `Worker`, so it runs the same from compiled code and from tests).
 * It owns one idempotent kafkajs producer and sends the batches it is handed in arrival order, one request at a time.
 * A batch of an epoch in which a batch failed is answered "not sent" without being sent: the relay hands over the next
 * batch before the previous one is acknowledged, and it must never reach the broker ahead of a failed one's retry.
 * After a failure the producer is replaced (a new producer id resets the sequence numbers).
 */
const PRODUCER_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { Kafka, Partitioners } = require(workerData.kafkajs);
const post = (m) => parentPort.postMessage(m);
const kafka = new Kafka({ ...workerData.config, logCreator: () => ({ level, log }) => post({ type: 'log', level, message: log.message, error: log.error && String(log.error) }) });
// kafkajs' default (Java-compatible murmur2) partitioner, remembering recent keys' partitions: its murmur2 runs on
// 64-bit emulated integers and costs more than the rest of a record's encoding, while a customer's key recurs often.
const memoisedPartitioner = () => {
  const partition = Partitioners.DefaultPartitioner();
  const byPartitionCount = new Map();
  return (args) => {
    if (typeof args.message.key !== 'string' || args.message.partition != null) return partition(args);
    let cache = byPartitionCount.get(args.partitionMetadata.length);
    if (!cache) byPartitionCount.set(args.partitionMetadata.length, (cache = new Map()));
    let p = cache.get(args.message.key);
    if (p === undefined) {
      if (cache.size >= 100000) cache.clear();
      cache.set(args.message.key, (p = partition(args)));
    }
    return p;
  };
};
let producer;
let failedEpoch = -1;
let queue = Promise.resolve();
const connected = async () => {
  if (producer) return producer;
  // Bounded retries (about 10 s) instead of kafkajs' endless ones for idempotent producers: a longer outage surfaces
  // to the relay, which retries the batch (at least once), and closing never hangs.
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: memoisedPartitioner, retry: { retries: 6, initialRetryTime: 300, maxRetryTime: 3000 } });
  await p.connect();
  return (producer = p);
};
/** What the relay classifies an error by (name, retriable, code, cause chain): an Error does not cross threads whole. */
const describe = (e, depth = 0) =>
  e && typeof e === 'object' && depth < 5
    ? { message: String(e.message), name: e.name, retriable: e.retriable, code: e.code, type: e.type, cause: describe(e.cause || e.originalError, depth + 1) }
    : undefined;
const reset = async () => {
  const p = producer;
  producer = undefined;
  if (p) await p.disconnect().catch(() => undefined);
};
parentPort.on('message', (m) => {
  if (m.type === 'close') return void reset().then(() => post({ type: 'closed' }));
  queue = queue.then(async () => {
    if (m.epoch <= failedEpoch) return post({ id: m.id, unsent: true });
    try {
      const p = await connected();
      for (const topicMessages of m.requests) await p.sendBatch({ acks: -1, topicMessages });
      post({ id: m.id });
    } catch (error) {
      failedEpoch = m.epoch;
      await reset();
      post({ id: m.id, error: (error && error.message) || String(error), detail: describe(error) });
    }
  });
});
`;

type ThreadReply =
  | { type: 'log'; level: number; message: string; error?: string }
  | { type: 'closed' }
  | { id: number; error?: string; detail?: ErrorDetail; unsent?: true };

/** An error of the producer thread, as it posts it. */
export interface ErrorDetail {
  message: string;
  name?: string;
  retriable?: boolean;
  code?: unknown;
  type?: string;
  cause?: ErrorDetail;
}

/** The producer thread's error again, with what the failure policy classifies it by (a broker outage is transient). */
export function threadError(message: string, detail?: ErrorDetail): Error {
  const error = new Error(message);
  if (!detail) return error;
  const { name, retriable, code, type, cause } = detail;
  return Object.assign(error, {
    ...(name ? { name } : {}),
    retriable,
    code,
    type,
    ...(cause ? { cause: threadError(cause.message, cause) } : {}),
  });
}

/**
 * Publishes outbox messages to Kafka from a producer thread of its own, with an idempotent producer (acks = all, one
 * request in flight, so the broker keeps each partition in send order and drops the producer's own retries). The
 * calling thread maps the records and hands them over; the producer thread encodes and sends them (kafkajs' encoding
 * is the costliest part of relaying), so the relay reads and maps the next batch while this one is on the wire:
 * `maxInFlight` batches may be handed over unacknowledged. Each `publish` resolves only when all its records are
 * acknowledged; once one fails, the batches handed over after it fail unsent, so a retry keeps the log order per key.
 */
export class KafkaPublisher implements Publisher {
  readonly kind = 'kafka';
  readonly maxInFlight = 2;
  private thread?: Worker;
  private readonly pending = new Map<number, (error?: Error) => void>();
  private nextId = 0;
  private epoch = 0;

  constructor(
    private readonly client: KafkaClientOptions,
    private readonly options: KafkaPublisherOptions = {},
  ) {}

  publish(messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const requests = toProduceRequests(messages, this.options.maxRequestBytes);
    const thread = this.producerThread();
    const id = ++this.nextId;
    const epoch = this.epoch;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, (error) => {
        if (!error) return resolve();
        if (this.epoch === epoch) this.epoch++;
        reject(error);
      });
      thread.postMessage({ type: 'publish', id, epoch, requests });
    });
  }

  /** Disconnects and stops the producer thread; publications in flight fail (they were not acknowledged). */
  async close(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    this.thread = undefined;
    const closed = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      thread.on('message', (m: ThreadReply) => 'type' in m && m.type === 'closed' && (clearTimeout(timer), resolve()));
    });
    thread.postMessage({ type: 'close' });
    await closed;
    await thread.terminate();
    this.failPending(new Error('the Kafka publisher was closed'));
  }

  private producerThread(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(PRODUCER_THREAD, {
      eval: true,
      workerData: { kafkajs: require.resolve('kafkajs'), config: kafkaConfig(this.client) },
    });
    thread.unref();
    thread.on('message', (m: ThreadReply) => {
      if ('id' in m) {
        const settle = this.pending.get(m.id);
        this.pending.delete(m.id);
        settle?.(m.unsent ? new BatchNotSent() : m.error === undefined ? undefined : threadError(m.error, m.detail));
      } else if (m.type === 'log') {
        const line = kafkaLogLine(m);
        if (m.level === logLevel.ERROR) this.client.logger?.error(line);
        else this.client.logger?.warn(line);
      }
    });
    const lost = (error: Error) => {
      if (this.thread !== thread) return;
      this.thread = undefined;
      this.failPending(error);
    };
    thread.on('error', (error) => lost(markTransient(new Error(`the Kafka producer thread failed: ${error.message}`))));
    thread.on('exit', (code) => lost(markTransient(new Error(`the Kafka producer thread exited (code ${code})`))));
    this.thread = thread;
    return thread;
  }

  private failPending(error: Error): void {
    const settles = [...this.pending.values()];
    this.pending.clear();
    for (const settle of settles) settle(error);
  }
}

const CLOSE_TIMEOUT_MS = 2000;

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
