import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId } from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase, type SqliteDatabase } from '@journey/event-store';
import { InProcessBus, InProcessPublisher } from '../bus/in-process-bus';
import { schemaValidator } from '../schemas/testing/schema-validator';
import { PUBLISHED_EVENT_TYPES, type IntegrationEvent } from './integration-events';
import { BatchNotSent, OutboxRelay, type Publisher } from './relay';
import type { OutboxMessage } from './integration-events';
import { sampleEvent, sampleEvents } from './sample-events.fixture';
import { until } from '../../../../test/support/wait';

const dir = mkdtempSync(join(tmpdir(), 'journey-relay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function open(name: string): { db: SqliteDatabase; store: SqliteEventStore; checkpoints: SqliteCheckpointStore } {
  const db = openSqliteDatabase(join(dir, `${name}.db`));
  return { db, store: new SqliteEventStore(db), checkpoints: new SqliteCheckpointStore(db) };
}

describe('OutboxRelay through the in-process bus', () => {
  it('publishes every published event once, in log order, as valid CloudEvents keyed by customer, and checkpoints', async () => {
    const { store, checkpoints } = open('basic');
    await store.appendToStream(customerStreamId('acme', 'c1'), sampleEvents('acme', 'c1'));
    await store.appendToStream('trigger-acme-t1', [sampleEvent('TriggerDefined', { name: 't1' }, 'acme', '')]);
    await store.appendToStream(customerStreamId('beta', 'c2'), sampleEvents('beta', 'c2'));
    const bus = new InProcessBus();
    const received: Array<{ topic: string; key: string; event: IntegrationEvent }> = [];
    bus.subscribe((event, { topic, key }) => void received.push({ topic, key, event }));
    const relay = new OutboxRelay(store, checkpoints, new InProcessPublisher(bus), { name: 'relay:test' });
    await relay.start();
    await until(() => received.length >= 2 * PUBLISHED_EVENT_TYPES.length, 'all events');
    await until(async () => (await checkpoints.get('relay:test')) === (await store.headPosition()) - 2n, 'checkpoint');
    await relay.stop();

    const published = (await store.readAll()).filter((e) => (PUBLISHED_EVENT_TYPES as string[]).includes(e.type));
    expect(received.map((r) => r.event.id)).toEqual(published.map((e) => e.id));
    expect(received.map((r) => r.event.position)).toEqual(published.map((e) => e.position.toString()));
    const validate = schemaValidator();
    for (const r of received) expect(validate(r.event)).toEqual([]);
    const stage = received.find((r) => r.event.type === 'journey.StageChanged' && r.event.workspace === 'beta')!;
    expect(stage).toMatchObject({
      topic: 'journey.stage-changes',
      key: 'beta:c2',
      event: { subject: 'c2', source: 'journey-engine/beta' },
    });
    expect(new Set(received.map((r) => r.topic))).toEqual(
      new Set(['journey.customer-events', 'journey.stage-changes', 'journey.messages', 'journey.csm-tasks', 'journey.conversations']),
    );
  });

  it('resumes from its checkpoint after a restart and honours a topic prefix', async () => {
    const { store, checkpoints } = open('resume');
    await store.appendToStream(customerStreamId('acme', 'c1'), sampleEvents('acme', 'c1'));
    const bus = new InProcessBus();
    const first: IntegrationEvent[] = [];
    const unsubscribe = bus.subscribe((event) => void first.push(event));
    const relay = new OutboxRelay(store, checkpoints, new InProcessPublisher(bus), { name: 'relay:test', topicPrefix: 'prod.' });
    await relay.start();
    await until(() => first.length === PUBLISHED_EVENT_TYPES.length, 'first run');
    await until(async () => (await checkpoints.get('relay:test')) !== undefined, 'checkpoint');
    await relay.stop();
    unsubscribe();

    const later = sampleEvent('InteractionRecorded', { event: 'Logged In', properties: {} }, 'acme', 'c1');
    await store.appendToStream(customerStreamId('acme', 'c1'), [later]);
    const second: Array<{ topic: string; id: string }> = [];
    bus.subscribe((event, { topic }) => void second.push({ topic, id: event.id }), ['prod.customer-events']);
    const again = new OutboxRelay(store, checkpoints, new InProcessPublisher(bus), { name: 'relay:test', topicPrefix: 'prod.' });
    await again.start();
    await until(() => second.length >= 1, 'the new event');
    await again.stop();
    expect(second).toEqual([{ topic: 'prod.customer-events', id: later.id }]);
  });

  it('retries a batch whose publication failed, without moving the checkpoint, and loses nothing', async () => {
    const { store, checkpoints } = open('retry');
    for (let i = 0; i < 30; i++) {
      await store.appendToStream(customerStreamId('acme', `c${i % 3}`), [
        sampleEvent('InteractionRecorded', { event: `e${i}`, properties: {} }, 'acme', `c${i % 3}`),
      ]);
    }
    const bus = new InProcessBus();
    const seen: string[] = [];
    let failures = 0;
    let checkpointWhileFailing: bigint | undefined | 'unset' = 'unset';
    bus.subscribe(async (event) => {
      seen.push(event.id);
      if (event.data.event === 'e15' && failures < 3) {
        failures++;
        checkpointWhileFailing = await checkpoints.get('relay:test');
        throw new Error('subscriber down');
      }
    });
    const relay = new OutboxRelay(store, checkpoints, new InProcessPublisher(bus), { name: 'relay:test', batchSize: 10, retryDelayMs: 10 });
    await relay.start();
    await until(async () => (await checkpoints.get('relay:test')) === (await store.headPosition()), 'checkpoint at head');
    await relay.stop();

    expect(failures).toBe(3);
    const all = (await store.readAll()).map((e) => e.id);
    expect(checkpointWhileFailing).toBe((await store.readAll())[9].position);
    // At least once: the failed batch (events 10..19) was delivered again; deduplicated by id, order is the log's.
    expect([...new Set(seen)]).toEqual(all);
    expect(seen.length).toBe(30 + 3 * 6);
  });

  it('hands batches over ahead of their acknowledgement, and after a failure sends the failed batch, then the ones behind it, in log order', async () => {
    const { store, checkpoints } = open('pipelined');
    for (let i = 0; i < 60; i++) {
      await store.appendToStream(customerStreamId('acme', `c${i % 3}`), [
        sampleEvent('InteractionRecorded', { event: `e${i}`, properties: {} }, 'acme', `c${i % 3}`),
      ]);
    }
    /** Sends one batch at a time in the order handed over; a batch handed over before a failure is known fails unsent. */
    class AheadPublisher implements Publisher {
      readonly kind = 'test';
      readonly maxInFlight = 3;
      readonly wire: string[] = [];
      handedAhead = 0;
      private queue = Promise.resolve();
      private unacknowledged = 0;
      private failedEpoch = -1;
      private epoch = 0;
      private failures = 0;
      publish(messages: OutboxMessage[]): Promise<void> {
        const epoch = this.epoch;
        if (++this.unacknowledged > 1) this.handedAhead++;
        const sent = this.queue.then(async () => {
          await new Promise((r) => setTimeout(r, 5));
          if (epoch <= this.failedEpoch) throw new BatchNotSent();
          if (messages.some((m) => m.event.data.event === 'e25') && this.failures++ < 2) {
            this.failedEpoch = epoch;
            throw new Error('broker down');
          }
          this.wire.push(...messages.map((m) => m.event.data.event as string));
        });
        this.queue = sent.catch(() => undefined);
        return sent.then(
          () => void this.unacknowledged--,
          (error: unknown) => {
            this.unacknowledged--;
            if (this.epoch === epoch) this.epoch++;
            throw error;
          },
        );
      }
      async close(): Promise<void> {}
    }
    const publisher = new AheadPublisher();
    const positions: bigint[] = [];
    const relay = new OutboxRelay(store, checkpoints, publisher, {
      name: 'relay:test',
      batchSize: 10,
      retryDelayMs: 10,
      onPublished: (_, at) => positions.push(at),
    });
    await relay.start();
    await until(async () => (await checkpoints.get('relay:test')) === (await store.headPosition()), 'checkpoint at head');
    await relay.stop();

    expect(publisher.handedAhead).toBeGreaterThan(0);
    // Nothing reaches the wire out of log order, nothing is lost; the failed batch went out once it got through.
    expect(publisher.wire).toEqual(Array.from({ length: 60 }, (_, i) => `e${i}`));
    const log = await store.readAll();
    expect(positions).toEqual([10, 20, 30, 40, 50, 60].map((n) => log[n - 1].position));
  });
});
