import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { customerStreamId } from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { allTopics } from '../outbox/integration-events';
import { OutboxRelay } from '../outbox/relay';
import { sampleEvent } from '../outbox/sample-events.fixture';
import { createKafka, ensureTopics } from './kafka-client';
import { KafkaPublisher } from './kafka-publisher';
import { consumeAll, until } from './testing/kafka-support';
import { describeWithServer, kafkaBrokers } from '../testing/servers';

const KAFKA_SH = resolve(__dirname, '../../../../scripts/servers/kafka.sh');
const kafkaSh = (command: 'stop' | 'start') => promisify(execFile)(KAFKA_SH, [command], { timeout: 180_000 });

const EVENTS = 5000;
const CUSTOMERS = 100;

describeWithServer('Kafka relay across a broker restart', 'KAFKA_BROKERS', () => {
  const brokers = () => kafkaBrokers()!;
  const dir = mkdtempSync(join(tmpdir(), 'journey-kafka-restart-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loses nothing and keeps per-customer order while the broker stops and starts mid-publishing', async () => {
    const kafka = createKafka({ brokers: brokers(), clientId: 'journey-restart-test' });
    const db = openSqliteDatabase(join(dir, 'restart.db'));
    const store = new SqliteEventStore(db);
    const checkpoints = new SqliteCheckpointStore(db);
    const prefix = `r${randomUUID().slice(0, 8)}.`;
    await ensureTopics(kafka, allTopics(prefix), { partitions: 4 });
    const warnings: string[] = [];
    const relay = new OutboxRelay(store, checkpoints, new KafkaPublisher({ brokers: brokers(), clientId: 'journey-restart-test' }), {
      name: 'relay:kafka',
      topicPrefix: prefix,
      batchSize: 200,
      retryDelayMs: 200,
      maxRetryDelayMs: 2000,
      logger: { log: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) },
    });
    await relay.start();

    // The writer keeps appending for ~10 s, so the broker goes away while the relay has events left to publish.
    const writer = (async () => {
      for (let i = 0; i < EVENTS; i += 50) {
        await store.appendMany(
          Array.from({ length: 50 }, (_, k) => {
            const c = `c${(i + k) % CUSTOMERS}`;
            return {
              streamId: customerStreamId('acme', c),
              events: [sampleEvent('InteractionRecorded', { event: 'Tick', properties: { n: i + k } }, 'acme', c)],
            };
          }),
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await until(async () => ((await checkpoints.get('relay:kafka')) ?? 0n) > 0n, 'first batch published');
    await kafkaSh('stop');
    const atStop = (await checkpoints.get('relay:kafka'))!;
    await kafkaSh('start');
    await writer;
    expect(atStop).toBeLessThan(BigInt(EVENTS));
    await until(async () => (await checkpoints.get('relay:kafka')) === BigInt(EVENTS), 'relay caught up', 90_000);
    await relay.stop();

    const records = await consumeAll(kafka, allTopics(prefix), EVENTS, { graceMs: 2000, timeoutMs: 60_000 });
    const ids = new Set(records.map((r) => r.event.id));
    expect(ids.size).toBe(EVENTS);
    expect(ids).toEqual(new Set((await store.readAll({ maxCount: EVENTS })).map((e) => e.id)));
    // Per key: every record either repeats an event already seen (an at-least-once duplicate) or comes after all of them.
    const byKey = new Map<string, { last: bigint; seen: Set<string> }>();
    let duplicates = 0;
    for (const r of records) {
      const state = byKey.get(r.key) ?? { last: 0n, seen: new Set<string>() };
      byKey.set(r.key, state);
      const position = BigInt(r.event.position);
      if (state.seen.has(r.event.id)) {
        duplicates++;
        continue;
      }
      expect(position).toBeGreaterThan(state.last);
      state.last = position;
      state.seen.add(r.event.id);
    }
    expect(byKey.size).toBe(CUSTOMERS);
    console.log(
      `broker restart: ${EVENTS} events, ${records.length} records, ${duplicates} duplicates, relay at position ${atStop} when the broker stopped, ${warnings.length} failed publications retried by the relay (the others by the producer)`,
    );
  }, 240_000);
});
