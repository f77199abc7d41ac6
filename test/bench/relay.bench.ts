import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { customerStreamId, type JourneyEvent } from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import {
  KafkaPublisher,
  OutboxRelay,
  allTopics,
  createKafka,
  ensureTopics,
  toOutboxMessage,
  toProduceRequests,
  type OutboxMessage,
} from '@journey/integration';

/**
 * The outbox relay to Kafka: events appended to a temporary SQLite store, then the relay (read the log, map to
 * CloudEvents, publish with the idempotent producer, checkpoint) timed until it has published them all; in the same
 * run, the raw kafkajs producer sending the same records in the same requests as the ceiling.
 * Targets: >= 20,000 events/s and >= 50% of the raw producer. Needs a broker: KAFKA_BROKERS (default 127.0.0.1:19092).
 */
export interface RelayFigures {
  events: number;
  customers: number;
  batchSize: number;
  relay: { eventsPerSec: number; seconds: number };
  raw: { eventsPerSec: number; seconds: number };
  ratioRelayToRaw: number;
  targets: { eventsPerSec: number; ratio: number; met: boolean };
}

export async function run(
  opts: { events?: number; customers?: number; batchSize?: number; brokers?: string[] } = {},
): Promise<RelayFigures> {
  const events = opts.events ?? 200_000;
  const customers = opts.customers ?? 10_000;
  const batchSize = opts.batchSize ?? 2000;
  const brokers = opts.brokers ?? (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
  const dir = mkdtempSync(join(tmpdir(), 'journey-relay-bench-'));
  const db = openSqliteDatabase(join(dir, 'bench.db'), { synchronous: 'NORMAL' });
  const store = new SqliteEventStore(db);
  const checkpoints = new SqliteCheckpointStore(db);
  const kafka = createKafka({ brokers, clientId: 'journey-relay-bench' });
  try {
    for (let i = 0; i < events; i += 1000) {
      const requests = new Map<string, JourneyEvent[]>();
      for (let k = i; k < Math.min(i + 1000, events); k++) {
        const customerId = `user-${k % customers}`;
        const occurredAt = new Date(Date.UTC(2026, 0, 1) + k * 1000).toISOString();
        const event: JourneyEvent = {
          id: randomUUID(),
          type: k % 50 === 0 ? 'StageChanged' : 'InteractionRecorded',
          data:
            k % 50 === 0
              ? { from: 'onboarding', to: 'active', reason: 'activity' }
              : { event: k % 7 ? 'Feature Used' : 'Logged In', properties: { feature: `f${k % 13}`, count: k % 5, plan: 'pro' } },
          metadata: { workspaceId: 'default', customerId, occurredAt, recordedAt: occurredAt, source: 'bench', schemaVersion: 1 },
        };
        const streamId = customerStreamId('default', customerId);
        requests.set(streamId, [...(requests.get(streamId) ?? []), event]);
      }
      await store.appendMany([...requests].map(([streamId, evs]) => ({ streamId, events: evs })));
    }
    const head = await store.headPosition();

    // Ceiling: the same records in the same produce requests, prepared in advance, from the bare producer.
    const rawPrefix = `bench-raw-${randomUUID().slice(0, 8)}.`;
    const relayPrefix = `bench-relay-${randomUUID().slice(0, 8)}.`;
    await ensureTopics(kafka, [...allTopics(rawPrefix), ...allTopics(relayPrefix)], { partitions: 6 });
    const rawSeconds = await rawCeiling(kafka, store, head, batchSize, rawPrefix);

    // The relay: from the log to Kafka, checkpointing each acknowledged batch.
    const relay = new OutboxRelay(store, checkpoints, new KafkaPublisher({ brokers }), {
      name: 'relay:bench',
      topicPrefix: relayPrefix,
      batchSize,
    });
    const started = process.hrtime.bigint();
    await relay.start();
    while ((await checkpoints.get('relay:bench')) !== head) await new Promise((r) => setTimeout(r, 5));
    const relaySeconds = Number(process.hrtime.bigint() - started) / 1e9;
    await relay.stop();

    const relayRate = Math.round(events / relaySeconds);
    const rawRate = Math.round(events / rawSeconds);
    const ratio = +(relayRate / rawRate).toFixed(3);
    return {
      events,
      customers,
      batchSize,
      relay: { eventsPerSec: relayRate, seconds: +relaySeconds.toFixed(2) },
      raw: { eventsPerSec: rawRate, seconds: +rawSeconds.toFixed(2) },
      ratioRelayToRaw: ratio,
      targets: { eventsPerSec: 20_000, ratio: 0.5, met: relayRate >= 20_000 && ratio >= 0.5 },
    };
  } finally {
    await store.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Times the bare idempotent producer (acks = all, one request in flight, as the relay's) on the records the relay would
 * send, mapped and grouped into requests in advance. Its own function so that the records are garbage before the relay
 * runs: kept alive, they would slow the relay's garbage collection.
 */
async function rawCeiling(kafka: Kafka, store: SqliteEventStore, head: bigint, batchSize: number, topicPrefix: string): Promise<number> {
  const batches: OutboxMessage[][] = [];
  for (let after = 0n; after < head;) {
    const read = await store.readAll({ after, maxCount: batchSize });
    batches.push(read.map((e) => toOutboxMessage(e, topicPrefix)!));
    after = read[read.length - 1].position;
  }
  const requests = batches.flatMap((batch) => toProduceRequests(batch));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  const started = process.hrtime.bigint();
  for (const topicMessages of requests) await producer.sendBatch({ acks: -1, topicMessages });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await producer.disconnect();
  return seconds;
}

if (require.main === module) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  run({ events: arg('events') ? Number(arg('events')) : undefined, batchSize: arg('batch') ? Number(arg('batch')) : undefined })
    .then((f) => console.log(JSON.stringify(f, null, 2)))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
