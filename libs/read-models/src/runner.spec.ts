import type { CustomerState, RecordedEvent } from '@journey/domain';
import { SqliteEventStore, listDeadLetters, openSqliteDatabase } from '@journey/event-store';
import { appendAll, event } from './contract/read-model-store.contract';
import type { Projection } from './projection';
import { CUSTOMERS, customerDocId, customersProjection } from './projections';
import { ProjectionRunner } from './runner';
import { SqliteReadModelStore } from './sqlite/sqlite-read-model-store';
import type { ReadModelStore } from './store.port';

/** A read-model store whose writes fail `failures` times as a MongoDB outage does, then work again. */
function flaky(inner: ReadModelStore, state: { failures: number }): ReadModelStore {
  const store = Object.create(inner) as ReadModelStore;
  store.applyBatches = (projections: readonly Projection[], events: readonly RecordedEvent[], ...rest) => {
    if (state.failures > 0) {
      state.failures--;
      return Promise.reject(Object.assign(new Error('connection 3 to 127.0.0.1:27017 closed'), { name: 'MongoNetworkError' }));
    }
    return inner.applyBatches(projections, events, ...rest);
  };
  return store;
}

function open() {
  const db = openSqliteDatabase(':memory:');
  return { events: new SqliteEventStore(db), store: new SqliteReadModelStore(db) };
}

describe('ProjectionRunner failures', () => {
  it('retries a store that fails transiently N times (more than the poison attempts) until it works: lastError while failing, cleared after, nothing quarantined', async () => {
    const { events, store } = open();
    const state = { failures: 6 };
    const errors: string[] = [];
    const runner = new ProjectionRunner(customersProjection, events, flaky(store, state), {
      retryDelayMs: 1,
      maxRetryDelayMs: 4,
      coalesceMs: 0,
      onError: () => errors.push(runner.status()[0].lastError ?? 'none'),
    });
    await runner.start();
    try {
      await appendAll(events, [
        event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
        event('b', 'InteractionRecorded', { event: 'x', properties: {} }),
      ]);
      await runner.waitFor(await events.headPosition());
      expect(state.failures).toBe(0);
      expect(errors).toEqual(Array(6).fill('connection 3 to 127.0.0.1:27017 closed'));
      expect(runner.status()[0].lastError).toBeUndefined();
      for (const c of ['a', 'b'])
        expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', c)))?.doc.interactions.total).toBe(1);
      expect(await listDeadLetters(events, 'w')).toEqual([]);
    } finally {
      await runner.stop();
    }
  });

  it('resubscribes after its subscription fails, however often resubscribing fails too', async () => {
    const { events, store } = open();
    const state = { checkpointFailures: 0 };
    const failing = Object.create(store) as ReadModelStore;
    failing.checkpoint = (...args) =>
      state.checkpointFailures-- > 0
        ? Promise.reject(Object.assign(new Error('server selection timed out'), { name: 'MongoServerSelectionError' }))
        : store.checkpoint(...args);
    const subscribe = events.subscribeToAll.bind(events);
    let subscriptions = 0;
    events.subscribeToAll = (options, handler) => {
      subscriptions++;
      // The first subscription dies (as a read of the log failing would); resubscribing then finds the store out 3 times.
      if (subscriptions === 1) {
        state.checkpointFailures = 3;
        return { done: Promise.reject(new Error('read failed')), stop: async () => undefined };
      }
      return subscribe(options, handler);
    };
    const runner = new ProjectionRunner(customersProjection, events, failing, { retryDelayMs: 1, maxRetryDelayMs: 4, coalesceMs: 0 });
    await runner.start();
    try {
      await appendAll(events, [event('a', 'InteractionRecorded', { event: 'x', properties: {} })]);
      await runner.waitFor(await events.headPosition());
      expect(subscriptions).toBe(2);
      expect(runner.status()[0].lastError).toBeUndefined();
    } finally {
      await runner.stop();
    }
  });
});
