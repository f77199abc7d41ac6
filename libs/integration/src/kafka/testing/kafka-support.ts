import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { IntegrationEvent } from '../../outbox/integration-events';
import { until as untilHolds } from '../../../../../test/support/wait';

/** `until` with the longer default a broker round trip needs. */
export const until = (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> =>
  untilHolds(condition, what, timeoutMs);

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: string;
  headers: Record<string, string>;
  /** The parsed value (CloudEvent) unless `raw`. */
  event: IntegrationEvent;
}

/**
 * Reads the topics from the beginning with a throw-away consumer group until at least `count` records arrived, then
 * waits a little longer so that extra records (duplicates) are seen too. Records come in partition order.
 */
export async function consumeAll(
  kafka: Kafka,
  topics: string[],
  count: number,
  options: { raw?: boolean; timeoutMs?: number; graceMs?: number } = {},
): Promise<ConsumedRecord[]> {
  const consumer = kafka.consumer({ groupId: `test-reader-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  const records: ConsumedRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const value = message.value?.toString('utf8') ?? '';
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        records.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? '',
          value,
          headers,
          event: options.raw ? (undefined as never) : JSON.parse(value),
        });
      },
    });
    await until(
      () => records.length >= count,
      `${count} records on ${topics.join(', ')} (got ${records.length})`,
      options.timeoutMs ?? 30_000,
    );
    await new Promise((r) => setTimeout(r, options.graceMs ?? 500));
    return records;
  } finally {
    await consumer.disconnect();
  }
}
