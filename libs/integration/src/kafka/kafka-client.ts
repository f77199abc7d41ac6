import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { IntegrationLogger } from '../outbox/relay';

export interface KafkaClientOptions {
  brokers: string[];
  clientId?: string;
  logger?: IntegrationLogger;
}

/** One kafkajs client per process role; its log lines (warnings and errors only) go to the engine's logger. */
export function createKafka({ brokers, clientId = 'journey-engine', logger }: KafkaClientOptions): Kafka {
  return new Kafka({
    brokers,
    clientId,
    connectionTimeout: 3000,
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        if (!logger) return;
        const line = `kafkajs: ${log.message}${log.error ? ` (${String(log.error)})` : ''}`;
        if (level === logLevel.ERROR) logger.error(line);
        else logger.warn(line);
      },
  });
}

/**
 * Creates the topics that are missing (existing ones are left as they are). `replicationFactor` -1 takes the broker's
 * default; production clusters should use 3 with `min.insync.replicas` 2 (deploy/kafka.md).
 */
export async function ensureTopics(kafka: Kafka, topics: string[], options: { partitions?: number; replicationFactor?: number } = {}): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: options.partitions ?? -1, replicationFactor: options.replicationFactor ?? -1 })),
    });
  } finally {
    await admin.disconnect();
  }
}
