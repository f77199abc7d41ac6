import type { Worker } from 'node:worker_threads';
import { classifyFailure } from '@journey/event-store';
import { toOutboxMessage } from '../outbox/integration-events';
import { sampleEvent } from '../outbox/sample-events.fixture';
import { KafkaPublisher, threadError } from './kafka-publisher';

/**
 * The relay quarantines what is not an outage: the producer thread's errors must keep what tells a broker outage
 * (transient, waited out) from a record the broker rejects (poison), although an Error does not cross threads whole.
 */
describe('KafkaPublisher errors, as the failure policy classifies them', () => {
  it('a broker outage (retries exhausted on connection errors) stays transient across the thread', () => {
    const error = threadError('Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
      message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092',
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      cause: {
        message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092',
        name: 'KafkaJSConnectionError',
        retriable: true,
        code: 'ECONNREFUSED',
      },
    });
    expect(error.message).toBe('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(classifyFailure(error)).toBe('transient');
    // a broker restarting under an idempotent producer
    expect(
      classifyFailure(
        threadError('The broker received an out of order sequence number', {
          message: 'x',
          name: 'KafkaJSProtocolError',
          retriable: false,
          type: 'OUT_OF_ORDER_SEQUENCE_NUMBER',
        }),
      ),
    ).toBe('transient');
    expect(
      classifyFailure(
        threadError('There is no leader for this topic-partition', {
          message: 'x',
          name: 'KafkaJSProtocolError',
          retriable: true,
          type: 'LEADER_NOT_AVAILABLE',
        }),
      ),
    ).toBe('transient');
  });

  it('a record the broker rejects for good stays poison', () => {
    const error = threadError('The request included a message larger than the max message size the server will accept', {
      message: 'x',
      name: 'KafkaJSProtocolError',
      retriable: false,
      type: 'MESSAGE_TOO_LARGE',
    });
    expect(error.name).toBe('KafkaJSProtocolError');
    expect(classifyFailure(error)).toBe('poison');
  });

  it('a producer thread that dies fails its publications with a transient error', async () => {
    const publisher = new KafkaPublisher({ brokers: ['127.0.0.1:1'], clientId: 'journey-thread-test' });
    const message = toOutboxMessage({
      ...sampleEvent('InteractionRecorded', { event: 'Tick', properties: {} }, 'acme', 'c1'),
      streamId: 'customer-acme-c1',
      revision: 0n,
      position: 1n,
    })!;
    const pending = publisher.publish([message]);
    await (publisher as unknown as { thread: Worker }).thread.terminate();
    const error = await pending.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(/the Kafka producer thread exited/);
    expect(classifyFailure(error)).toBe('transient');
    await publisher.close();
  });
});
