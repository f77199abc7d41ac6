import type { Worker } from 'node:worker_threads';
import { until } from '../../../../test/support/wait';
import { toOutboxMessage } from '../outbox/integration-events';
import { sampleEvent } from '../outbox/sample-events.fixture';
import { KafkaPublisher } from './kafka-publisher';

/** The producer thread's life, without a broker: nothing listens on 127.0.0.1:1, so a publication stays pending. */
describe('KafkaPublisher producer thread', () => {
  const message = () =>
    toOutboxMessage({
      ...sampleEvent('InteractionRecorded', { event: 'Tick', properties: {} }, 'acme', 'c1'),
      streamId: 'customer-acme-c1',
      revision: 0n,
      position: 1n,
    })!;

  it('fails the publications of a thread that dies, starts a new thread for the next one, and fails those pending at close', async () => {
    const errors: string[] = [];
    const publisher = new KafkaPublisher({
      brokers: ['127.0.0.1:1'],
      clientId: 'journey-thread-test',
      logger: { log: () => undefined, warn: (m) => errors.push(m), error: (m) => errors.push(m) },
    });
    const thread = () => (publisher as unknown as { thread?: Worker }).thread;

    const first = publisher.publish([message()]);
    const firstThread = thread()!;
    await until(
      () => errors.some((e) => e.startsWith('kafkajs: ') && e.includes('ECONNREFUSED')),
      "the thread's kafkajs log reaching the logger",
    );
    await firstThread.terminate();
    await expect(first).rejects.toThrow(/the Kafka producer thread exited/);

    const second = publisher.publish([message()]);
    expect(thread()).toBeDefined();
    expect(thread()).not.toBe(firstThread);
    const closing = Date.now();
    await publisher.close();
    await expect(second).rejects.toThrow('the Kafka publisher was closed');
    expect(Date.now() - closing).toBeLessThan(5000);
    expect(thread()).toBeUndefined();
  });
});
