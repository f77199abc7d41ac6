import { isUtf8 } from 'node:buffer';
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Message, Producer } from 'kafkajs';
import { customerStreamId, type JourneyEvent } from '@journey/domain';
import type { EventStore } from '@journey/event-store';
import { parseSegmentCall } from '../segment';
import type { IntegrationLogger } from '../outbox/relay';
import { ensureTopics } from './kafka-client';

/** Headers a dead letter carries besides the original record's own. */
export const DLQ_HEADERS = {
  reason: 'journey-dlq-reason',
  topic: 'journey-dlq-topic',
  partition: 'journey-dlq-partition',
  offset: 'journey-dlq-offset',
} as const;

export interface IngestionConsumerOptions {
  topic: string;
  groupId: string;
  /** The workspace the topic's calls belong to (one ingestion topic per workspace). */
  workspaceId: string;
  /** Dead-letter topic (default `<topic>.dlq`). */
  deadLetterTopic?: string;
  /** Longest wait of a fetch for new records (default 1,000 ms): also bounds how long `stop()` waits for it. */
  maxWaitTimeInMs?: number;
  /** Messages appended per store transaction (default 500). */
  chunkSize?: number;
  logger?: IntegrationLogger;
  now?: () => Date;
  /**
   * Called after each chunk is durable: events newly written (after dedupe) and messages dead-lettered (each one is
   * also logged with its reason).
   */
  onIngested?: (written: number, deadLettered: number) => void;
}

/**
 * Ingests Segment calls (the HTTP API's shape, one call per record value) from a topic with a consumer group. Each chunk
 * of a fetched batch is appended durably (`appendMany`) before its offsets are resolved and committed, so a crash
 * replays uncommitted records: the events' ids derive from the call's `messageId` (or, without one, from topic,
 * partition and offset), so the replay appends nothing twice. A record that is not valid JSON or not a valid call (the
 * HTTP API's validation and limits, README "Ingestion semantics") is copied to the dead-letter topic with the reason in
 * its headers and logged with it, and the partition moves on: a poison record never stops the consumer.
 */
export class KafkaIngestionConsumer {
  private consumer?: Consumer;
  private producer?: Producer;
  /** Set when the consumer crashed (kafkajs restarts it after retriable errors), for /health. */
  lastError?: Error;

  constructor(
    private readonly kafka: Kafka,
    private readonly store: EventStore,
    private readonly options: IngestionConsumerOptions,
  ) {}

  get deadLetterTopic(): string {
    return this.options.deadLetterTopic ?? `${this.options.topic}.dlq`;
  }

  async start(): Promise<void> {
    await ensureTopics(this.kafka, [this.options.topic, this.deadLetterTopic]);
    this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await this.producer.connect();
    this.consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: this.options.maxWaitTimeInMs ?? 1000,
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      this.lastError = payload.error;
      this.options.logger?.error(`kafka ingestion consumer crashed (restart: ${payload.restart}): ${payload.error.message}`);
    });
    this.consumer.on(this.consumer.events.FETCH_START, () => (this.lastError = undefined));
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.options.topic], fromBeginning: true });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitThreshold: 1,
      eachBatch: (payload) => this.ingest(payload),
    });
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    await this.producer?.disconnect();
    this.consumer = undefined;
    this.producer = undefined;
  }

  private async ingest({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const size = this.options.chunkSize ?? 500;
    for (let from = 0; from < batch.messages.length; from += size) {
      if (!isRunning() || isStale()) return;
      const chunk = batch.messages.slice(from, from + size);
      const streams = new Map<string, JourneyEvent[]>();
      const dead: Message[] = [];
      const receivedAt = (this.options.now?.() ?? new Date()).toISOString();
      for (const message of chunk) {
        const parsed = this.parse(message, batch.topic, batch.partition, receivedAt);
        if (typeof parsed === 'string') {
          dead.push(this.deadLetter(message, batch.topic, batch.partition, parsed));
          continue;
        }
        for (const event of parsed) {
          const streamId = customerStreamId(event.metadata.workspaceId, event.metadata.customerId);
          const events = streams.get(streamId);
          if (events) events.push(event);
          else streams.set(streamId, [event]);
        }
      }
      if (dead.length > 0) {
        await this.producer!.send({ topic: this.deadLetterTopic, acks: -1, messages: dead });
        for (const { headers } of dead) {
          this.options.logger?.warn(
            `kafka ingestion: record ${batch.topic}[${batch.partition}]@${headers![DLQ_HEADERS.offset]} sent to ${this.deadLetterTopic}: ${headers![DLQ_HEADERS.reason]}`,
          );
        }
      }
      const results = streams.size > 0 ? await this.store.appendMany([...streams].map(([streamId, events]) => ({ streamId, events }))) : [];
      resolveOffset(chunk[chunk.length - 1].offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
      this.options.onIngested?.(
        results.reduce((n, r) => n + r.written, 0),
        dead.length,
      );
    }
  }

  /** The record's events, or the reason it is a poison message. */
  private parse(message: KafkaMessage, topic: string, partition: number, receivedAt: string): JourneyEvent[] | string {
    if (!message.value || message.value.length === 0) return 'empty record value';
    if (!isUtf8(message.value)) return 'the record value is not valid UTF-8'; // decoding would change it (U+FFFD)
    let call: unknown;
    try {
      call = JSON.parse(message.value.toString('utf8'));
    } catch (error) {
      return `invalid JSON: ${(error as Error).message}`;
    }
    const result = parseSegmentCall(call, {
      workspaceId: this.options.workspaceId,
      receivedAt,
      source: 'kafka',
      newMessageId: () => `kafka:${topic}:${partition}:${message.offset}`,
    });
    if (!result.ok) return `invalid Segment call: ${result.errors.map((e) => e.message).join('; ')}`;
    return result.events;
  }

  private deadLetter(message: KafkaMessage, topic: string, partition: number, reason: string): Message {
    const headers: IHeaders = {
      ...message.headers,
      [DLQ_HEADERS.reason]: reason,
      [DLQ_HEADERS.topic]: topic,
      [DLQ_HEADERS.partition]: String(partition),
      [DLQ_HEADERS.offset]: message.offset,
    };
    return { key: message.key, value: message.value, headers };
  }
}
