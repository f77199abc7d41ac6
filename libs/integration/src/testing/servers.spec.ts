import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { describeWithServer, kafkaBrokers, serversRequired } from './servers';

describe('serversRequired', () => {
  it('is true with JOURNEY_REQUIRE_SERVERS=1 (as .ci/run sets it), false otherwise', () => {
    expect(serversRequired({ CI: 'true' })).toBe(false);
    expect(serversRequired({ JOURNEY_REQUIRE_SERVERS: '1' })).toBe(true);
    expect(serversRequired({ CI: 'false', JOURNEY_REQUIRE_SERVERS: '0' })).toBe(false);
    expect(serversRequired({})).toBe(false);
  });
});

describeWithServer('Kafka test server', 'KAFKA_BROKERS', () => {
  const kafka = () => new Kafka({ clientId: 'servers-spec', brokers: kafkaBrokers()!, logLevel: logLevel.NOTHING });

  it('creates a topic, lists it and reports the offsets of a message sent to it', async () => {
    const topic = `servers-spec-${randomUUID()}`;
    const admin = kafka().admin();
    const producer = kafka().producer();
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true })).toBe(true);
      expect(await admin.listTopics()).toContain(topic);
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
      expect(await admin.fetchTopicOffsets(topic)).toEqual([expect.objectContaining({ partition: 0, low: '0', high: '1' })]);
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });
});

describeWithServer('MongoDB test server', 'MONGODB_URL', (url) => {
  it('inserts and finds a document', async () => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
    await client.connect();
    try {
      const collection = client.db().collection<{ _id: string; n: number }>(`servers_spec_${randomUUID().slice(0, 8)}`);
      await collection.insertMany([
        { _id: 'a', n: 1 },
        { _id: 'b', n: 2 },
      ]);
      expect(await collection.find({ n: { $gt: 1 } }).toArray()).toEqual([{ _id: 'b', n: 2 }]);
      await collection.drop();
    } finally {
      await client.close();
    }
  });
});
