import { randomUUID } from 'node:crypto';
import { customerStreamId, deadLetterStreamId, foldDeadLetters, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { BackgroundCheckpoint } from '../checkpoint.port';
import type { EventStore } from '../event-store.port';
import { requestDeadLetterRetry } from '../failures/dead-letter-log';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase } from '../sqlite';
import { eventually } from '../../../reactors/src/testing/eventually';
import { Processor, type BatchContext, type ProcessorOptions } from './processor';

const event = (customerId: string, type = 'Ping'): JourneyEvent => ({
  id: randomUUID(),
  type,
  data: {},
  metadata: {
    workspaceId: 'w',
    customerId,
    occurredAt: '2025-01-01T00:00:00.000Z',
    recordedAt: '2025-01-01T00:00:00.000Z',
    source: 'test',
    schemaVersion: 1,
  },
});

describe('Processor', () => {
  const running: Processor[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop()));
  });

  /** A store with a log, its checkpoints, and a processor over them whose handler records what it is given. */
  const setup = () => {
    const db = openSqliteDatabase(':memory:');
    const store = new SqliteEventStore(db);
    const checkpoints = new SqliteCheckpointStore(db);
    const handled: Array<{ customers: string[]; context: BatchContext }> = [];
    const append = async (...events: JourneyEvent[]) => {
      let last = 0n;
      for (const e of events) last = (await store.appendToStream(customerStreamId('w', e.metadata.customerId), [e])).position;
      return last;
    };
    const start = async (options: Partial<ProcessorOptions> = {}, on: EventStore = store) => {
      const processor = new Processor({
        name: 'test',
        store: on,
        filter: { eventTypes: ['Ping'] },
        checkpoint: new BackgroundCheckpoint(checkpoints, 'test'),
        handle: (events, context) => void handled.push({ customers: events.map((e) => e.metadata.customerId), context }),
        failures: { minMs: 1, maxMs: 5 },
        ...options,
      });
      running.push(processor);
      await processor.start();
      return processor;
    };
    const letters = async () => foldDeadLetters(await store.readStream(deadLetterStreamId('w')));
    return { store, checkpoints, handled, append, start, letters };
  };

  it('hands the handler only the events of its filter, reaches the head, and stores the checkpoint (flushed at stop)', async () => {
    const { checkpoints, handled, append, start } = setup();
    const processor = await start();
    const head = await append(event('a'), event('b', 'Noise'), event('c'), event('d', 'Noise'));
    await processor.waitFor(head);
    expect(handled.flatMap((h) => h.customers)).toEqual(['a', 'c']);
    expect(handled.every((h) => h.context.live && !h.context.retry)).toBe(true);
    expect(processor.position).toBe(head);
    await processor.stop();
    expect(await checkpoints.get('test')).toBe(head);
  });

  it('resumes after its checkpoint: nothing is handled twice', async () => {
    const { handled, append, start } = setup();
    const first = await start();
    await first.waitFor(await append(event('a')));
    await first.stop();
    const second = await start();
    await second.waitFor(await append(event('b')));
    expect(handled.flatMap((h) => h.customers)).toEqual(['a', 'b']);
  });

  it('tells the handler whether it keeps up: a full batch is not live', async () => {
    const { handled, append, start } = setup();
    await append(event('a'), event('b'));
    const processor = await start({ batchSize: 2 });
    await processor.waitFor(await append(event('c')));
    expect(handled.map((h) => [h.customers, h.context.live])).toEqual([
      [['a', 'b'], false],
      [['c'], true],
    ]);
  });

  it('quarantines a poison event, handles the others, and runs the retry request of its dead letter once', async () => {
    const { store, handled, append, start, letters } = setup();
    let broken = true;
    const quarantined: string[] = [];
    const processor = await start({
      handle: (events, context) => {
        if (broken && events.some((e) => e.metadata.customerId === 'bad')) throw new TypeError('cannot handle bad');
        handled.push({ customers: events.map((e) => e.metadata.customerId), context });
      },
      failures: { minMs: 1, maxMs: 5, onQuarantined: (subscriber, e) => quarantined.push(`${subscriber}:${e.metadata.customerId}`) },
    });
    await processor.waitFor(await append(event('a'), event('bad'), event('b')));
    expect(handled.flatMap((h) => h.customers)).toEqual(['a', 'b']);
    expect(quarantined).toEqual(['test:bad']);
    const [letter] = await letters();
    expect(letter).toMatchObject({ status: 'quarantined', subscriber: 'test', customerId: 'bad', reason: 'TypeError', attempts: 3 });
    expect(processor.lastError).toBeUndefined();

    broken = false;
    await requestDeadLetterRetry(store, 'w', letter.id, 'test');
    await eventually(async () => expect((await letters())[0].status).toBe('resolved'));
    await processor.waitFor(await store.headPosition());
    expect(handled.filter((h) => h.context.retry)).toEqual([{ customers: ['bad'], context: { live: false, retry: true } }]);
    // A replay of the request (a restart from an older checkpoint) is answered already: not run again.
    await processor.stop();
    const again = await start({ checkpoint: { load: async () => 0n } });
    await again.waitFor(await store.headPosition());
    expect(handled.filter((h) => h.context.retry)).toHaveLength(1);
  });

  it('retries a transient failure until it heals, lastError set meanwhile and cleared after, without quarantining', async () => {
    const { handled, append, start, letters } = setup();
    let failures = 5; // more than the poison attempts: a transient error never counts as one
    const seen: Array<string | undefined> = [];
    const processor: Processor = await start({
      handle: (events, context) => {
        seen.push(processor.lastError?.message);
        if (failures-- > 0) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
        handled.push({ customers: events.map((e) => e.metadata.customerId), context });
      },
    });
    await processor.waitFor(await append(event('a')));
    expect(seen).toEqual([undefined, ...Array(5).fill('database is locked')]);
    expect(handled.flatMap((h) => h.customers)).toEqual(['a']);
    expect(processor.lastError).toBeUndefined();
    expect(await letters()).toEqual([]);
  });

  it('resubscribes from its position after the subscription fails (and after subscribing fails), with backoff', async () => {
    const { store, handled, append, start } = setup();
    const dying = Object.create(store) as EventStore;
    const from: Array<bigint | undefined> = [];
    dying.subscribeToAll = (options, handler) => {
      from.push(options.after);
      if (from.length === 1)
        return { done: Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })), stop: async () => undefined };
      if (from.length <= 3) throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      return store.subscribeToAll(options, handler);
    };
    const before = await append(event('a'));
    const processor = await start({ checkpoint: { load: async () => before } }, dying);
    await processor.waitFor(await append(event('b')));
    expect(from).toEqual([before, before, before, before]);
    expect(handled.flatMap((h) => h.customers)).toEqual(['b']);
    expect(processor.lastError).toBeUndefined();
  });

  it('waitFor rejects with a clear error when the position is not reached in time, and when the processor stops', async () => {
    const { start } = setup();
    const processor = await start({ name: 'ping-pong', label: 'reactor ping-pong' });
    await expect(processor.waitFor(99n, 50)).rejects.toThrow('reactor ping-pong did not reach position 99 within 50 ms');
    const waiting = processor.waitFor(99n);
    await processor.stop();
    await expect(waiting).rejects.toThrow('reactor ping-pong stopped at position 0');
  });

  it('stop ends a transient retry at once, aborts the signal and waits for the handler’s own work (onStop)', async () => {
    const { append, start } = setup();
    const stops: string[] = [];
    const processor = await start({
      handle: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
      failures: { minMs: 60_000, maxMs: 60_000 },
      onStop: async () => void stops.push(processor.signal.aborted ? 'aborted' : 'not aborted'),
    });
    await append(event('a'));
    await eventually(() => expect(processor.lastError?.message).toBe('connect ECONNREFUSED'));
    const started = Date.now();
    await processor.stop();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(stops).toEqual(['aborted']);
    expect(processor.isRunning).toBe(false);
  });

  it('keeps the checkpoint below what the handler holds, and moves it when the handler releases it', async () => {
    const { checkpoints, append, start } = setup();
    const held = new Map<string, bigint>();
    const processor = await start({
      handle: (events: RecordedEvent[]) => void events.forEach((e) => held.set(e.metadata.customerId, e.position)),
      holds: () => [...held.values()].reduce<bigint | undefined>((low, p) => (low === undefined || p < low ? p : low), undefined),
    });
    await append(event('x', 'Noise'));
    const a = await append(event('a'));
    const head = await append(event('b'));
    await processor.waitFor(head);
    await eventually(async () => expect(await checkpoints.get('test')).toBe(a - 1n));
    held.delete('a');
    processor.saveCheckpoint();
    await eventually(async () => expect(await checkpoints.get('test')).toBe(head - 1n));
    held.clear();
    processor.saveCheckpoint();
    await eventually(async () => expect(await checkpoints.get('test')).toBe(head));
  });

  it('with filterInStore, the store seeks the types and the retry requests still reach it', async () => {
    const { store, append, start } = setup();
    const seen: string[] = [];
    const reading = Object.create(store) as EventStore;
    reading.subscribeToAll = (options, handler) => {
      seen.push(JSON.stringify(options.filter));
      return store.subscribeToAll(options, handler);
    };
    const processor = await start({ filterInStore: true }, reading);
    const ping = await append(event('a'));
    await append(event('b', 'Noise'));
    await processor.waitFor(ping);
    expect(seen).toEqual([JSON.stringify({ eventTypes: ['Ping', 'DeadLetterRetryRequested'] })]);
    expect(processor.position).toBe(ping);
  });
});
