import { customerStreamId } from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, listDeadLetters, openSqliteDatabase, requestDeadLetterRetry } from '@journey/event-store';
import { until } from '../../../../test/support/wait';
import type { OutboxMessage } from './integration-events';
import { OutboxRelay, type Publisher } from './relay';
import { sampleEvent } from './sample-events.fixture';

/** Records what it acknowledged; rejects (how `reject` says) any batch with a message of a customer in `rejects`. */
class PickyPublisher implements Publisher {
  readonly kind = 'test';
  readonly acknowledged: string[] = [];
  rejects = new Set<string>();
  failuresLeft = 0;
  failure = () =>
    Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
      name: 'KafkaJSProtocolError',
      retriable: false,
    });

  async publish(messages: OutboxMessage[]): Promise<void> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw this.failure();
    }
    if (messages.some((m) => this.rejects.has(m.event.subject))) throw this.failure();
    this.acknowledged.push(...messages.map((m) => `${m.event.subject}:${String(m.event.data.event)}`));
  }

  async close(): Promise<void> {}
}

describe('OutboxRelay failures (FailurePolicy)', () => {
  const open = () => {
    const db = openSqliteDatabase(':memory:');
    return { store: new SqliteEventStore(db), checkpoints: new SqliteCheckpointStore(db) };
  };
  const track = (customer: string, name: string) => sampleEvent('InteractionRecorded', { event: name, properties: {} }, 'w', customer);

  it('quarantines a message the broker keeps rejecting, publishes the rest of its batch and the next ones, and publishes it on retry once fixed', async () => {
    const { store, checkpoints } = open();
    const publisher = new PickyPublisher();
    publisher.rejects.add('bad');
    for (const [c, n] of [
      ['a', 'e1'],
      ['bad', 'e2'],
      ['b', 'e3'],
    ])
      await store.appendToStream(customerStreamId('w', c), [track(c, n)]);
    const quarantined: string[] = [];
    const relay = new OutboxRelay(store, checkpoints, publisher, {
      name: 'relay:test',
      retryDelayMs: 1,
      maxRetryDelayMs: 5,
      failures: { onQuarantined: (s) => quarantined.push(s) },
    });
    await relay.start();
    try {
      await until(async () => (await listDeadLetters(store, 'w')).length === 1, 'a dead letter');
      await store.appendToStream(customerStreamId('w', 'c'), [track('c', 'e4')]);
      await until(async () => (await checkpoints.get('relay:test')) === (await store.headPosition()), 'checkpoint at head');
      expect(publisher.acknowledged).toEqual(['a:e1', 'b:e3', 'c:e4']);
      expect(quarantined).toEqual(['relay:test']);
      const [letter] = await listDeadLetters(store, 'w');
      expect(letter).toMatchObject({
        status: 'quarantined',
        subscriber: 'relay:test',
        customerId: 'bad',
        eventType: 'InteractionRecorded',
        reason: 'KafkaJSProtocolError',
        attempts: 3,
      });
      expect(relay.lastError).toBeUndefined();

      publisher.rejects.clear();
      await requestDeadLetterRetry(store, 'w', letter.id, 'test');
      await until(async () => (await listDeadLetters(store, 'w'))[0].status === 'resolved', 'the dead letter resolved');
      expect(publisher.acknowledged).toEqual(['a:e1', 'b:e3', 'c:e4', 'bad:e2']);
    } finally {
      await relay.stop();
    }
  });

  it('quarantines an event it cannot map and publishes the others', async () => {
    const { store, checkpoints } = open();
    const publisher = new PickyPublisher();
    await store.appendToStream(customerStreamId('w', 'a'), [track('a', 'e1')]);
    await store.appendToStream(customerStreamId('w', 'odd'), [{ ...track('odd', 'x'), data: null as unknown as Record<string, unknown> }]);
    const last = (await store.appendToStream(customerStreamId('w', 'b'), [track('b', 'e2')])).position;
    const relay = new OutboxRelay(store, checkpoints, publisher, { name: 'relay:test', retryDelayMs: 1, maxRetryDelayMs: 5 });
    await relay.start();
    try {
      await until(async () => (await checkpoints.get('relay:test')) === last, 'checkpoint past the last published event');
      expect(publisher.acknowledged).toEqual(['a:e1', 'b:e2']);
      expect(await listDeadLetters(store, 'w')).toEqual([expect.objectContaining({ customerId: 'odd', reason: 'TypeError' })]);
    } finally {
      await relay.stop();
    }
  });

  it('retries a broker outage (transient) for as long as it lasts, without quarantining, and clears lastError', async () => {
    const { store, checkpoints } = open();
    const publisher = new PickyPublisher();
    publisher.failuresLeft = 6;
    publisher.failure = () =>
      Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), {
        name: 'KafkaJSConnectionError',
        retriable: true,
      });
    await store.appendToStream(customerStreamId('w', 'a'), [track('a', 'e1'), track('a', 'e2')]);
    const relay = new OutboxRelay(store, checkpoints, publisher, { name: 'relay:test', retryDelayMs: 1, maxRetryDelayMs: 5 });
    await relay.start();
    try {
      await until(() => relay.lastError !== undefined, 'the failure reported');
      await until(async () => (await checkpoints.get('relay:test')) === (await store.headPosition()), 'checkpoint at head');
      expect(publisher.acknowledged).toEqual(['a:e1', 'a:e2']);
      expect(relay.lastError).toBeUndefined();
      expect(await listDeadLetters(store, 'w')).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it('resubscribes after its subscription fails (it used to stop for good), and publishes everything once', async () => {
    const { store, checkpoints } = open();
    const publisher = new PickyPublisher();
    const dying = Object.create(store) as typeof store;
    let subscriptions = 0;
    dying.subscribeToAll = (options, handler) => {
      if (subscriptions++ === 0)
        return { done: Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })), stop: async () => undefined };
      return store.subscribeToAll(options, handler);
    };
    await store.appendToStream(customerStreamId('w', 'a'), [track('a', 'e1')]);
    const relay = new OutboxRelay(dying, checkpoints, publisher, { name: 'relay:test', retryDelayMs: 1, maxRetryDelayMs: 5 });
    await relay.start();
    try {
      await until(async () => (await checkpoints.get('relay:test')) === (await store.headPosition()), 'checkpoint at head');
      expect(subscriptions).toBe(2);
      expect(publisher.acknowledged).toEqual(['a:e1']);
      expect(relay.lastError).toBeUndefined();
    } finally {
      await relay.stop();
    }
  });
});
