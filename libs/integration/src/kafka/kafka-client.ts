import { Kafka, logLevel, type Admin, type KafkaConfig, type LogEntry } from 'kafkajs';
import pRetry from 'p-retry';
import type { IntegrationLogger } from '../outbox/relay';

export interface KafkaClientOptions {
  brokers: string[];
  clientId?: string;
  logger?: IntegrationLogger;
}

/** The client settings, as plain data (a producer thread builds its own client from them). */
export function kafkaConfig({ brokers, clientId = 'journey-engine' }: KafkaClientOptions): KafkaConfig {
  return {
    brokers,
    clientId,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
    logLevel: logLevel.WARN,
  };
}

/** A kafkajs log line as the engine's logger gets it (warnings and errors only). */
export function kafkaLogLine({ message, error }: { message: string; error?: unknown }): string {
  return `kafkajs: ${message}${error ? ` (${String(error)})` : ''}`;
}

/** One kafkajs client per process role; its log lines (warnings and errors only) go to the engine's logger. */
export function createKafka(options: KafkaClientOptions): Kafka {
  const { logger } = options;
  return new Kafka({
    ...kafkaConfig(options),
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (!logger) return;
        if (level === logLevel.ERROR) logger.error(kafkaLogLine(log));
        else logger.warn(kafkaLogLine(log));
      },
  });
}

/**
 * Creates the topics that are missing (existing ones are left as they are). `replicationFactor` -1 takes the broker's
 * default; production clusters should use 3 with `min.insync.replicas` 2 (deploy/kafka.md).
 */
export async function ensureTopics(
  kafka: Kafka,
  topics: string[],
  options: { partitions?: number; replicationFactor?: number } = {},
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: options.partitions ?? -1,
        replicationFactor: options.replicationFactor ?? -1,
      })),
    });
    await waitForLeaders(admin, missing);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until every partition of the new topics has a leader. kafkajs' own `waitForLeaders` gives up on the
 * UNKNOWN_TOPIC_OR_PARTITION answer a KRaft broker may still give right after creating a topic; this asks again every
 * 200 ms (p-retry) for up to `timeoutMs`, then fails with the last answer.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  await pRetry(
    async () => {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
      throw new Error(`kafka: topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    },
    { retries: Math.ceil(timeoutMs / 200), factor: 1, minTimeout: 200, maxTimeout: 200, maxRetryTime: timeoutMs },
  );
}
