import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { customerStreamId } from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { PUBLISHED_EVENT_TYPES, allTopics, topicFor, type PublishedEventType } from '../outbox/integration-events';
import { OutboxRelay } from '../outbox/relay';
import { sampleEvent, sampleEvents } from '../outbox/sample-events.fixture';
import { schemaValidator } from '../schemas/testing/schema-validator';
import { DLQ_HEADERS, KafkaIngestionConsumer } from './ingestion-consumer';
import { createKafka, ensureTopics } from './kafka-client';
import { CLOUDEVENTS_CONTENT_TYPE, KafkaPublisher } from './kafka-publisher';
import { consumeAll, until } from './testing/kafka-support';
import { describeWithServer, kafkaBrokers } from '../testing/servers';

const dir = mkdtempSync(join(tmpdir(), 'journey-kafka-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function openStore(name: string) {
  const db = openSqliteDatabase(join(dir, `${name}.db`));
  return { store: new SqliteEventStore(db), checkpoints: new SqliteCheckpointStore(db) };
}

describeWithServer('Kafka integration', 'KAFKA_BROKERS', () => {
  const brokers = () => kafkaBrokers()!;
  let kafka: Kafka;
  beforeAll(() => {
    kafka = createKafka({ brokers: brokers(), clientId: 'journey-test' });
  });

  it('relays the log to the documented topics as CloudEvents, keyed and in order per customer', async () => {
    const { store, checkpoints } = openStore('relay');
    const prefix = `t${randomUUID().slice(0, 8)}.`;
    await ensureTopics(kafka, allTopics(prefix), { partitions: 3 });
    const customers = ['c1', 'c2', 'c3'];
    for (const c of customers) await store.appendToStream(customerStreamId('acme', c), sampleEvents('acme', c));
    for (let i = 0; i < 300; i++) {
      const c = customers[i % 3];
      await store.appendToStream(customerStreamId('acme', c), [
        sampleEvent('InteractionRecorded', { event: `e${i}`, properties: { i } }, 'acme', c),
      ]);
    }
    const relay = new OutboxRelay(store, checkpoints, new KafkaPublisher({ brokers: brokers(), clientId: 'journey-test' }), {
      name: 'relay:kafka',
      topicPrefix: prefix,
      batchSize: 100,
    });
    await relay.start();
    await until(async () => (await checkpoints.get('relay:kafka')) === (await store.headPosition()), 'relay checkpoint at head');
    await relay.stop();

    const expected = (await store.readAll()).filter((e) => (PUBLISHED_EVENT_TYPES as string[]).includes(e.type));
    expect(expected).toHaveLength(3 * PUBLISHED_EVENT_TYPES.length + 300);
    const records = await consumeAll(kafka, allTopics(prefix), expected.length);
    expect(records).toHaveLength(expected.length);
    const validate = schemaValidator();
    for (const r of records) {
      expect(validate(r.event)).toEqual([]);
      expect(r.headers['content-type']).toBe(CLOUDEVENTS_CONTENT_TYPE);
      expect(r.key).toBe(`acme:${r.event.subject}`);
      expect(r.topic).toBe(topicFor(r.event.type.slice('journey.'.length) as PublishedEventType, prefix));
    }
    expect(new Set(records.map((r) => r.event.id))).toEqual(new Set(expected.map((e) => e.id)));
    // Per customer key and topic (one partition), the log order.
    for (const c of customers) {
      const interactions = records
        .filter((r) => r.key === `acme:${c}` && r.topic === `${prefix}customer-events`)
        .map((r) => BigInt(r.event.position));
      expect(interactions.length).toBeGreaterThan(100);
      expect(interactions).toEqual([...interactions].sort((a, b) => (a < b ? -1 : 1)));
    }
  });

  it('ingests Segment calls from a topic, dead-letters poison records and keeps going, and does not duplicate on redelivery', async () => {
    const { store } = openStore('ingest');
    const topic = `ingest-${randomUUID().slice(0, 8)}`;
    await ensureTopics(kafka, [topic], { partitions: 2 });
    const producer = kafka.producer();
    await producer.connect();
    const calls = [
      { type: 'identify', userId: 'u1', messageId: 'm1', traits: { plan: 'pro' }, timestamp: '2026-01-01T00:00:00.000Z' },
      'not json {',
      { type: 'track', userId: 'u1', messageId: 'm2', event: 'Logged In' },
      { type: 'track', event: 'No One' },
      { type: 'track', userId: 'u2', event: 'No Message Id' },
      { type: 'page', userId: 'u1', messageId: 'm3', name: 'Pricing' },
    ];
    await producer.send({
      topic,
      messages: calls.map((c, i) => ({
        key: i % 2 ? 'u2' : 'u1',
        value: typeof c === 'string' ? c : JSON.stringify(c),
        headers: { origin: 'test' },
      })),
    });

    const consumerOptions = { topic, groupId: `g-${topic}`, workspaceId: 'acme' };
    let consumer = new KafkaIngestionConsumer(kafka, store, consumerOptions);
    await consumer.start();
    await until(async () => (await store.readAll()).length === 4, '4 ingested events');
    const dead = await consumeAll(kafka, [consumer.deadLetterTopic], 2, { raw: true });
    await consumer.stop();

    const events = await store.readAll();
    expect(events.map((e) => e.type).sort()).toEqual(['CustomerIdentified', 'InteractionRecorded', 'InteractionRecorded', 'PageViewed']);
    expect(events.every((e) => e.metadata.source === 'kafka' && e.metadata.workspaceId === 'acme')).toBe(true);
    expect((await store.readStream(customerStreamId('acme', 'u1'))).map((e) => e.type)).toEqual([
      'CustomerIdentified',
      'InteractionRecorded',
      'PageViewed',
    ]);
    expect(dead.map((d) => d.value).sort()).toEqual([JSON.stringify(calls[3]), 'not json {'].sort());
    const reasons = dead.map((d) => d.headers[DLQ_HEADERS.reason]).sort();
    expect(reasons[0]).toMatch(/^invalid JSON/);
    expect(reasons[1]).toMatch(/^invalid Segment call: .*userId/);
    expect(dead.every((d) => d.headers[DLQ_HEADERS.topic] === topic && d.headers.origin === 'test')).toBe(true);

    // Redelivery: rewind the group to the start, as after a crash before the commit. Nothing is appended twice.
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: consumerOptions.groupId, topic, earliest: true });
    await admin.disconnect();
    await producer.send({
      topic,
      messages: [{ key: 'u3', value: JSON.stringify({ type: 'track', userId: 'u3', messageId: 'marker', event: 'Marker' }) }],
    });
    await producer.disconnect();
    consumer = new KafkaIngestionConsumer(kafka, store, consumerOptions);
    await consumer.start();
    await until(async () => (await store.readStream(customerStreamId('acme', 'u3'))).length === 1, 'marker ingested');
    await consumer.stop();
    expect((await store.readAll()).map((e) => e.id)).toEqual([
      ...events.map((e) => e.id),
      (await store.readStream(customerStreamId('acme', 'u3')))[0].id,
    ]);
  });

  it('dead-letters the calls the HTTP API refuses (nesting, lone surrogates, timestamps, bad UTF-8) with the field named, logs and counts them, and ingests what follows', async () => {
    const { store } = openStore('nasty');
    const topic = `nasty-${randomUUID().slice(0, 8)}`;
    await ensureTopics(kafka, [topic], { partitions: 1 });
    const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const nasty: Array<[string, RegExp]> = [
      [`{"type":"identify","userId":"u","traits":${deep(10_000)}}`, /^invalid Segment call: traits must not nest deeper than 32 levels/],
      ['{"type":"identify","userId":"x\\ud800"}', /^invalid Segment call: userId must be well-formed UTF-16/],
      ['{"type":"track","userId":"u","event":"e","messageId":"m\\udc00"}', /^invalid Segment call: messageId must be well-formed UTF-16/],
      [
        '{"type":"track","userId":"u","event":"e","timestamp":"2024-W01-1"}',
        /^invalid Segment call: timestamp must be a valid ISO 8601 date string/,
      ],
      [
        '{"type":"track","userId":"u","event":"e","timestamp":"20240101T100000Z"}',
        /^invalid Segment call: timestamp must be a valid ISO 8601 date string/,
      ],
      [
        '{"type":"track","userId":"u","event":"e","properties":{"a":{"b\\udfff":1}}}',
        /^invalid Segment call: properties\.a\["b\\udfff"\] \(a key\) must be well-formed UTF-16/,
      ],
    ];
    const notUtf8 = Buffer.concat([
      Buffer.from('{"type":"track","userId":"u","event":"e","messageId":"m'),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    const good = { type: 'track', userId: 'after', messageId: 'good', event: 'Still Here', timestamp: '2026-01-31T12:00:00Z' };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        ...nasty.map(([value]) => ({ key: 'u', value })),
        { key: 'u', value: notUtf8 },
        { key: 'after', value: JSON.stringify(good) },
      ],
    });
    nasty.push([notUtf8.toString('utf8'), /^the record value is not valid UTF-8$/]);
    await producer.disconnect();

    const warnings: string[] = [];
    let deadLettered = 0;
    const logger = { log: () => undefined, error: () => undefined, warn: (m: string) => warnings.push(m) };
    const consumer = new KafkaIngestionConsumer(kafka, store, {
      topic,
      groupId: `g-${topic}`,
      workspaceId: 'acme',
      logger,
      onIngested: (_, dead) => (deadLettered += dead),
    });
    await consumer.start();
    try {
      await until(
        async () => (await store.readStream(customerStreamId('acme', 'after'))).length === 1,
        'the good call after the nasty ones ingested',
      );
      const dead = await consumeAll(kafka, [consumer.deadLetterTopic], nasty.length, { raw: true });
      expect(dead.map((d) => d.value)).toEqual(nasty.map(([value]) => value));
      dead.forEach((d, i) => expect(d.headers[DLQ_HEADERS.reason]).toMatch(nasty[i][1]));
    } finally {
      await consumer.stop();
    }
    expect((await store.readAll()).map((e) => [e.metadata.customerId, e.data.event, e.metadata.occurredAt])).toEqual([
      ['after', 'Still Here', '2026-01-31T12:00:00.000Z'],
    ]);
    expect(deadLettered).toBe(nasty.length);
    expect(warnings).toHaveLength(nasty.length);
    warnings.forEach((w, i) =>
      expect(w).toMatch(new RegExp(`^kafka ingestion: record ${topic}\\[0\\]@${i} sent to ${topic}\\.dlq: ${nasty[i][1].source.slice(1)}`)),
    );
  });
});
