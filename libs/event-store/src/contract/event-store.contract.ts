import { randomUUID } from 'node:crypto';
import type { JourneyEvent, RecordedEvent } from '@journey/domain';
import { WrongExpectedRevisionError, type EventStore } from '../event-store.port';

/**
 * The contract every EventStore adapter passes. Each adapter's spec calls this with a factory for a fresh store.
 * Streams are named with a random suffix, so the suite also runs against a shared, non-empty server.
 */
export function describeEventStoreContract(
  name: string,
  createStore: () => Promise<EventStore>,
  dispose: (s: EventStore) => Promise<void> = (s) => s.close(),
): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    const run = randomUUID().slice(0, 8);
    const stream = (s: string) => `customer-contract${run}-${s}`;

    beforeEach(async () => {
      store = await createStore();
    });
    afterEach(async () => {
      await dispose(store);
    });

    const event = (type: string, data: Record<string, unknown> = {}, id = randomUUID()): JourneyEvent => ({
      id,
      type,
      data,
      metadata: {
        workspaceId: 'w',
        customerId: 'c',
        occurredAt: '2026-01-01T00:00:00.000Z',
        recordedAt: '2026-01-01T00:00:01.000Z',
        source: 'test',
        schemaVersion: 1,
      },
    });

    it('appends to a new stream and reads it forwards and backwards, with data and metadata intact', async () => {
      const s = stream('rw');
      const result = await store.appendToStream(
        s,
        [event('A', { n: 1, nested: { x: [1, 'two'] } }), event('B', { n: 2 }), event('C', { n: 3 })],
        { expectedRevision: 'no_stream' },
      );
      expect(result.nextExpectedRevision).toBe(2n);
      expect(result.written).toBe(3);
      const forwards = await store.readStream(s);
      expect(forwards.map((e) => e.type)).toEqual(['A', 'B', 'C']);
      expect(forwards.map((e) => e.revision)).toEqual([0n, 1n, 2n]);
      expect(forwards[0].data).toEqual({ n: 1, nested: { x: [1, 'two'] } });
      expect(forwards[0].metadata).toMatchObject({
        workspaceId: 'w',
        customerId: 'c',
        source: 'test',
        schemaVersion: 1,
        occurredAt: '2026-01-01T00:00:00.000Z',
      });
      expect(forwards.every((e) => e.streamId === s)).toBe(true);
      const backwards = await store.readStream(s, { direction: 'backwards', maxCount: 2 });
      expect(backwards.map((e) => e.type)).toEqual(['C', 'B']);
      const fromOne = await store.readStream(s, { fromRevision: 1n });
      expect(fromOne.map((e) => e.type)).toEqual(['B', 'C']);
    });

    it('reading a stream that does not exist gives no events', async () => {
      expect(await store.readStream(stream('missing'))).toEqual([]);
    });

    it('enforces the expected revision with a clear conflict error', async () => {
      const s = stream('occ');
      await store.appendToStream(s, [event('A')], { expectedRevision: 'no_stream' });
      await expect(store.appendToStream(s, [event('B')], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
      await expect(store.appendToStream(s, [event('B')], { expectedRevision: 5n })).rejects.toThrow(
        /wrong expected revision.*expected 5.*actual 0/,
      );
      await expect(store.appendToStream(stream('occ-none'), [event('B')], { expectedRevision: 'stream_exists' })).rejects.toBeInstanceOf(
        WrongExpectedRevisionError,
      );
      const ok = await store.appendToStream(s, [event('B')], { expectedRevision: 0n });
      expect(ok.nextExpectedRevision).toBe(1n);
      expect((await store.readStream(s)).map((e) => e.type)).toEqual(['A', 'B']);
    });

    it('is idempotent by event id: appending the same event again writes nothing', async () => {
      const s = stream('idem');
      const e = event('A', {}, randomUUID());
      await store.appendToStream(s, [e]);
      const again = await store.appendToStream(s, [e]);
      expect(again.written).toBe(0);
      await store.appendToStream(s, [e, event('B')]);
      expect((await store.readStream(s)).map((x) => x.type)).toEqual(['A', 'B']);
    });

    it('appends to several streams at once and orders everything in one global log', async () => {
      const a = stream('many-a');
      const b = stream('many-b');
      const before = await store.headPosition();
      const results = await store.appendMany([
        { streamId: a, events: [event('A1'), event('A2')] },
        { streamId: b, events: [event('B1')] },
      ]);
      expect(results.map((r) => r.nextExpectedRevision)).toEqual([1n, 0n]);
      const all = await store.readAll({ after: before, maxCount: 100, filter: { streamPrefixes: [`customer-contract${run}-many-`] } });
      expect(all.map((e) => e.type)).toEqual(['A1', 'A2', 'B1']);
      for (let i = 1; i < all.length; i++) expect(all[i].position > all[i - 1].position).toBe(true);
      expect(await store.headPosition()).toBeGreaterThanOrEqual(all[2].position);
    });

    it('reads all from a position, exclusive, in pages, with type and stream-prefix filters', async () => {
      const s = stream('page');
      const before = await store.headPosition();
      await store.appendToStream(
        s,
        Array.from({ length: 7 }, (_, i) => event(i % 2 ? 'Odd' : 'Even', { i })),
      );
      const filter = { streamPrefixes: [s] };
      const first = await store.readAll({ after: before, maxCount: 3, filter });
      const second = await store.readAll({ after: first[2].position, maxCount: 10, filter });
      expect([...first, ...second].map((e) => e.data.i)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      const odd = await store.readAll({ after: before, maxCount: 10, filter: { eventTypes: ['Odd'], streamPrefixes: [s] } });
      expect(odd.map((e) => e.data.i)).toEqual([1, 3, 5]);
    });

    it('a stream-prefix filter takes every stream that starts with the prefix and no other, whatever follows it', async () => {
      const prefix = stream('prefix-');
      const before = await store.headPosition();
      const neighbour = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
      await store.appendMany([
        { streamId: `${prefix}a`, events: [event('In', { i: 1 })] },
        { streamId: neighbour, events: [event('Out', { i: 2 })] },
        { streamId: `${prefix}é\u{1F600}`, events: [event('In', { i: 3 })] },
        { streamId: prefix.slice(0, -1), events: [event('Out', { i: 4 })] },
        { streamId: prefix, events: [event('In', { i: 5 })] },
      ]);
      const read = await store.readAll({ after: before, maxCount: 10, filter: { streamPrefixes: [prefix] } });
      expect(read.map((e) => e.data.i)).toEqual([1, 3, 5]);
    });

    it('subscribes from a checkpoint: catches up, then receives live events, in order, until stopped', async () => {
      const s = stream('sub');
      await store.appendToStream(s, [event('Old1'), event('Old2')]);
      const checkpoint = (await store.readStream(s))[0].position;
      const seen: RecordedEvent[] = [];
      let resolveSeen!: () => void;
      const gotAll = new Promise<void>((r) => (resolveSeen = r));
      const sub = store.subscribeToAll({ after: checkpoint, filter: { streamPrefixes: [s] }, batchSize: 2 }, (events) => {
        seen.push(...events);
        if (seen.length >= 3) resolveSeen();
      });
      await new Promise((r) => setTimeout(r, 50));
      await store.appendToStream(s, [event('New1')]);
      await store.appendToStream(s, [event('New2')]);
      await Promise.race([gotAll, new Promise((_, rej) => setTimeout(() => rej(new Error(`only saw ${seen.map((e) => e.type)}`)), 5000))]);
      await sub.stop();
      expect(seen.map((e) => e.type)).toEqual(['Old2', 'New1', 'New2']);
      await store.appendToStream(s, [event('AfterStop')]);
      await new Promise((r) => setTimeout(r, 100));
      expect(seen.some((e) => e.type === 'AfterStop')).toBe(false);
    });

    it('a subscription that throws stops with that error', async () => {
      const s = stream('sub-err');
      const before = await store.headPosition();
      await store.appendToStream(s, [event('Boom')]);
      const sub = store.subscribeToAll({ after: before, filter: { streamPrefixes: [s] } }, () => {
        throw new Error('handler failed');
      });
      await expect(sub.done).rejects.toThrow('handler failed');
    });
  });
}
