import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { InProcessBus, allTopics, createKafka, type IntegrationEvent } from '@journey/integration';
import { consumeAll, until } from '../../../../libs/integration/src/kafka/testing/kafka-support';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { describeWithServer, kafkaBrokers } from '../../../../libs/integration/src/testing/servers';

describe('integration module, embedded default: relay to the in-process bus', () => {
  let engine: TestEngine;
  afterAll(() => engine?.close());

  it('publishes ingested interactions as CloudEvents on the bus and reports the relay in /health and /metrics', async () => {
    engine = await startEngine({ env: { JOURNEY_ROLES: 'api,relay', KAFKA_BROKERS: '' } });
    const received: Array<{ topic: string; key: string; event: IntegrationEvent }> = [];
    engine.app.get(InProcessBus).subscribe((event, { topic, key }) => void received.push({ topic, key, event }));
    const http = request(engine.app.getHttpServer());
    await http
      .post('/v1/track')
      .set('Authorization', engine.auth.write)
      .send({ userId: 'ada', event: 'Report Created', messageId: 'm-1', timestamp: '2026-01-01T00:00:00.000Z' })
      .expect(200);

    await until(() => received.some((r) => r.event.subject === 'ada'), 'the event on the bus');
    const { topic, key, event } = received.find((r) => r.event.subject === 'ada')!;
    expect({ topic, key }).toEqual({ topic: 'journey.customer-events', key: 'default:ada' });
    expect(event).toMatchObject({
      specversion: '1.0',
      type: 'journey.InteractionRecorded',
      source: 'journey-engine/default',
      time: '2026-01-01T00:00:00.000Z',
      data: { event: 'Report Created' },
    });

    const health = await http.get('/health').expect(200);
    expect(health.body.info['relay:bus']).toEqual({ status: 'up' });
    const metrics = await http.get('/metrics').set('Authorization', engine.auth.admin).expect(200);
    expect(metrics.text).toMatch(/journey_relay_published_events_total\{relay="relay:bus"\} [1-9]/);
  });
});

describeWithServer('integration module with Kafka: ingest from a topic, relay to the integration topics', 'KAFKA_BROKERS', () => {
  const brokers = () => kafkaBrokers()!;
  let engine: TestEngine;
  afterAll(() => engine?.close());

  it('turns a Segment call on the ingestion topic into a CloudEvent on journey.customer-events', async () => {
    const prefix = `e2e${randomUUID().slice(0, 8)}.`;
    const ingestTopic = `${prefix}ingest`;
    engine = await startEngine({
      env: {
        JOURNEY_ROLES: 'ingest,relay',
        KAFKA_BROKERS: brokers().join(','),
        JOURNEY_KAFKA_TOPIC_PREFIX: prefix,
        JOURNEY_KAFKA_INGEST_TOPIC: ingestTopic,
        JOURNEY_KAFKA_PARTITIONS: '2',
      },
    });
    const kafka = createKafka({ brokers: brokers() });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: ingestTopic,
      messages: [{ key: 'grace', value: JSON.stringify({ type: 'identify', userId: 'grace', messageId: 'k-1', traits: { plan: 'pro' } }) }],
    });
    await producer.disconnect();

    const [record] = await consumeAll(kafka, [`${prefix}customer-events`], 1);
    expect(record.key).toBe('default:grace');
    expect(record.event).toMatchObject({
      type: 'journey.CustomerIdentified',
      subject: 'grace',
      data: { userId: 'grace', traits: { plan: 'pro' } },
    });
    expect(allTopics(prefix)).toContain(record.topic);
    const health = await request(engine.app.getHttpServer()).get('/health').expect(200);
    expect(health.body.info).toMatchObject({ 'relay:kafka': { status: 'up' }, 'kafka:ingest': { status: 'up' } });
  });
});
