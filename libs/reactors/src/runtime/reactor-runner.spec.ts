import { customerStreamId, deadLetterStreamId, deterministicId, type RecordedEvent } from '@journey/domain';
import {
  SqliteCheckpointStore,
  SqliteEventStore,
  listDeadLetters,
  openSqliteDatabase,
  requestDeadLetterRetry,
  type AppendRequest,
  type CheckpointStore,
  type EventStore,
} from '@journey/event-store';
import { eventually } from '../testing/eventually';
import { StageReactor } from '../stage/stage-reactor';
import { FakeClock } from '../testing/fake-clock';
import { appendToCustomer, customerEvent } from '../testing/events';
import { partitionOf } from './partition';
import type { Reactor, ReactorContext } from './reactor';
import { ReactorRunner, type ReactorLogger } from './reactor-runner';

function openStore() {
  const db = openSqliteDatabase(':memory:');
  return { store: new SqliteEventStore(db), checkpoints: new SqliteCheckpointStore(db) };
}

function recordingLogger(): ReactorLogger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, log: () => undefined, error: (m) => errors.push(m) };
}

const identify = (customer: string, at = '2025-01-01T00:00:00.000Z') =>
  customerEvent(customer, 'CustomerIdentified', { userId: customer, traits: {} }, at);
const track = (customer: string, name: string, at = '2025-01-01T00:00:00.000Z') =>
  customerEvent(customer, 'InteractionRecorded', { event: name, properties: {} }, at);
const typesOf = async (store: EventStore, customer: string) => (await store.readStream(customerStreamId('w', customer))).map((e) => e.type);

/** Answers every `Ping` with a `Pong` (deterministic id) in the same stream. */
class PingPong implements Reactor {
  readonly name = 'ping-pong';
  readonly filter = { eventTypes: ['Ping'] };
  seen: string[] = [];
  failuresLeft = 0;
  /** The error thrown while failuresLeft lasts. */
  failure = () => new Error('reactor is unwell');
  /** Customers whose Ping it cannot handle (a poison event). */
  rejects = new Set<string>();

  async react(events: RecordedEvent[]): Promise<AppendRequest[]> {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw this.failure();
    }
    const poison = events.find((e) => this.rejects.has(e.metadata.customerId));
    if (poison) throw new RangeError(`Invalid time value (${poison.metadata.customerId})`);
    this.seen.push(...events.map((e) => e.type));
    return events.map((e) => ({ streamId: e.streamId, events: [{ ...e, id: deterministicId('pong', e.id), type: 'Pong' }] }));
  }
}

/** A checkpoint store that fails on `set` a given number of times: the process "crashed" after the append. */
class CrashingCheckpoints implements CheckpointStore {
  constructor(
    private readonly inner: CheckpointStore,
    public failuresLeft: number,
  ) {}
  get(name: string) {
    return this.inner.get(name);
  }
  async set(name: string, position: bigint) {
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('crash before the checkpoint');
    }
    return this.inner.set(name, position);
  }
}

describe('ReactorRunner', () => {
  const runners: ReactorRunner[] = [];
  const start = async (runner: ReactorRunner) => {
    runners.push(runner);
    await runner.start();
    return runner;
  };
  afterEach(async () => {
    await Promise.all(runners.splice(0).map((r) => r.stop()));
  });

  it('delivers only the events of the filter, appends what the reactor returns, then stores the checkpoint at the head', async () => {
    const { store, checkpoints } = openStore();
    const reactor = new PingPong();
    const runner = await start(new ReactorRunner(reactor, { store, checkpoints }));
    await appendToCustomer(store, customerEvent('c2', 'Noise', {}));
    const ping = await appendToCustomer(store, customerEvent('c1', 'Ping', {}));
    const last = await appendToCustomer(store, customerEvent('c2', 'Noise', {}));
    await runner.waitFor(last);
    expect(reactor.seen).toEqual(['Ping']);
    expect(await typesOf(store, 'c1')).toEqual(['Ping', 'Pong']);
    expect(await typesOf(store, 'c2')).toEqual(['Noise', 'Noise']);
    expect(ping).toBeLessThan(last);
    expect(runner.position).toBeGreaterThanOrEqual(last);
    await runner.stop(); // the checkpoint is saved in the background: stop waits for it
    expect(await checkpoints.get('ping-pong')).toBeGreaterThanOrEqual(last);
  });

  it('appends effects as derived while it keeps up, and waits for their durability when a batch is full (behind)', async () => {
    const { store, checkpoints } = openStore();
    const derived: boolean[] = [];
    const recording = new Proxy(store, {
      get(target, name) {
        if (name === 'appendMany')
          return (requests: AppendRequest[], options?: { rederivable?: boolean }) => (
            derived.push(options?.rederivable === true),
            target.appendMany(requests, options)
          );
        const value = Reflect.get(target, name);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    for (const c of ['c1', 'c2']) await appendToCustomer(store, customerEvent(c, 'Ping', {}));
    const runner = await start(new ReactorRunner(new PingPong(), { store: recording, checkpoints, batchSize: 2 }));
    await runner.waitFor(await store.headPosition());
    await runner.waitFor(await appendToCustomer(store, customerEvent('c3', 'Ping', {})));
    expect(derived).toEqual([false, true]); // [Ping, Ping] filled the batch; then one Ping
  });

  it('resumes from its checkpoint after a restart: nothing is handled twice', async () => {
    const { store, checkpoints } = openStore();
    const first = new PingPong();
    const runner = await start(new ReactorRunner(first, { store, checkpoints }));
    await runner.waitFor(await appendToCustomer(store, customerEvent('c1', 'Ping', {})));
    await runner.stop();
    const second = new PingPong();
    const restarted = await start(new ReactorRunner(second, { store, checkpoints }));
    await restarted.waitFor(await appendToCustomer(store, customerEvent('c2', 'Ping', {})));
    expect(second.seen).toEqual(['Ping']);
    expect(await typesOf(store, 'c1')).toEqual(['Ping', 'Pong']);
  });

  it('a crash after the append and before the checkpoint replays the batch without duplicate effects (and reports them)', async () => {
    const { store, checkpoints } = openStore();
    const logger = recordingLogger();
    const appended: Array<[number, number]> = [];
    const onAppended = (written: number, duplicates: number) => appended.push([written, duplicates]);
    // Both events of c1 arrive before the runner starts, so they are one batch: the replay decides both again.
    await appendToCustomer(store, identify('c1'));
    const activated = await appendToCustomer(store, track('c1', 'Activated'));
    // The first runner appends its effects, but its checkpoint never reaches the store; then it stops (the crash).
    const first = await start(
      new ReactorRunner(new StageReactor(), {
        store,
        checkpoints: new CrashingCheckpoints(checkpoints, 1),
        logger,
        clock: new FakeClock(),
        onAppended,
      }),
    );
    await first.waitFor(activated);
    await first.stop();
    expect(logger.errors).toEqual([expect.stringMatching(/reactor stage: storing its checkpoint failed .*crash before the checkpoint/)]);
    expect(await checkpoints.get(first.checkpointName)).toBeUndefined();
    const second = await start(new ReactorRunner(new StageReactor(), { store, checkpoints, logger, clock: new FakeClock(), onAppended }));
    await second.waitFor(await store.headPosition());
    expect(await typesOf(store, 'c1')).toEqual([
      'CustomerIdentified',
      'InteractionRecorded',
      'StageChanged',
      'TimerScheduled',
      'StageChanged',
    ]);
    expect(appended).toEqual([
      [3, 0],
      [0, 3],
    ]);
    await second.stop();
    expect(await checkpoints.get(second.checkpointName)).toBe(await store.headPosition());
    expect(second.lastError).toBeUndefined();
  });

  it('a failing reactor is logged and retried with back-off from the checkpoint, without stopping', async () => {
    const { store, checkpoints } = openStore();
    const logger = recordingLogger();
    const reactor = new PingPong();
    reactor.failuresLeft = 2;
    const runner = await start(new ReactorRunner(reactor, { store, checkpoints, logger, retry: { minMs: 10, maxMs: 20 } }));
    await runner.waitFor(await appendToCustomer(store, customerEvent('c1', 'Ping', {})));
    expect(logger.errors).toHaveLength(2);
    expect(logger.errors[0]).toMatch(/reactor ping-pong failed .* reactor is unwell/s);
    expect(await typesOf(store, 'c1')).toEqual(['Ping', 'Pong']);
  });

  it('quarantines a poison event and goes on with the other customers, in the same batch and after it; a retry resolves it once fixed', async () => {
    const { store, checkpoints } = openStore();
    const reactor = new PingPong();
    reactor.rejects.add('bad');
    for (const c of ['c1', 'bad', 'c2']) await appendToCustomer(store, customerEvent(c, 'Ping', {}));
    const quarantined: string[] = [];
    const runner = await start(
      new ReactorRunner(reactor, {
        store,
        checkpoints,
        retry: { minMs: 1, maxMs: 5 },
        failures: { onQuarantined: (s) => quarantined.push(s) },
      }),
    );
    await runner.waitFor(await store.headPosition());
    await runner.waitFor(await appendToCustomer(store, customerEvent('c3', 'Ping', {})));
    for (const c of ['c1', 'c2', 'c3']) expect(await typesOf(store, c)).toEqual(['Ping', 'Pong']);
    expect(await typesOf(store, 'bad')).toEqual(['Ping']);
    expect(quarantined).toEqual(['ping-pong']);
    const [letter] = await listDeadLetters(store, 'w');
    expect(letter).toMatchObject({
      status: 'quarantined',
      subscriber: 'ping-pong',
      customerId: 'bad',
      eventType: 'Ping',
      reason: 'RangeError',
      error: 'Invalid time value (bad)',
      attempts: 3,
    });
    expect(runner.lastError).toBeUndefined();
    // The checkpoint went past it: a restart does not stop on it again.
    const head = await store.headPosition();
    await eventually(async () => expect(await checkpoints.get('ping-pong')).toBe(head));

    reactor.rejects.clear();
    await requestDeadLetterRetry(store, 'w', letter.id, 'test');
    await eventually(async () => expect((await listDeadLetters(store, 'w'))[0].status).toBe('resolved'));
    expect(await typesOf(store, 'bad')).toEqual(['Ping', 'Pong']);
    expect((await store.readStream(deadLetterStreamId('w'))).map((e) => e.type)).toEqual([
      'EventQuarantined',
      'DeadLetterRetryRequested',
      'DeadLetterResolved',
    ]);
  });

  it('retries a transient failure (the store is busy) until it heals, reporting lastError meanwhile, without quarantining', async () => {
    const { store, checkpoints } = openStore();
    const reactor = new PingPong();
    reactor.failuresLeft = 5; // more than the poison attempts: a transient error never counts as one
    reactor.failure = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const errors: Array<string | undefined> = [];
    const runner = await start(
      new ReactorRunner(reactor, {
        store,
        checkpoints,
        retry: { minMs: 5, maxMs: 10 },
        logger: { log: () => undefined, error: () => errors.push(runner.lastError?.message) },
      }),
    );
    await runner.waitFor(await appendToCustomer(store, customerEvent('c1', 'Ping', {})));
    expect(errors).toEqual(Array(5).fill('database is locked'));
    expect(runner.lastError).toBeUndefined();
    expect(await typesOf(store, 'c1')).toEqual(['Ping', 'Pong']);
    expect(await listDeadLetters(store, 'w')).toEqual([]);
  });

  it('two runners on partitions 0/2 and 1/2 of one store handle each customer exactly once between them', async () => {
    const { store, checkpoints } = openStore();
    const handled: Array<Set<string>> = [new Set(), new Set()];
    /** The stage reactor, recording for which customers it produced effects. */
    const recording = (seen: Set<string>): Reactor => {
      const inner = new StageReactor();
      return {
        name: inner.name,
        filter: inner.filter,
        react: async (events: RecordedEvent[], ctx: ReactorContext) => {
          const appends = await inner.react(events, ctx);
          for (const a of appends) for (const e of a.events) seen.add(e.metadata.customerId);
          return appends;
        },
      };
    };
    const customers = Array.from({ length: 24 }, (_, i) => `customer-${i}`);
    const [p0, p1] = await Promise.all(
      [0, 1].map((index) => start(new ReactorRunner(recording(handled[index]), { store, checkpoints, partition: { index, count: 2 } }))),
    );
    expect(p0.checkpointName).not.toBe(p1.checkpointName);
    for (const c of customers) await appendToCustomer(store, identify(c));
    await p0.waitFor(await store.headPosition());
    await p1.waitFor(await store.headPosition());
    for (const index of [0, 1]) {
      expect(handled[index].size).toBeGreaterThan(0);
      for (const c of handled[index]) expect(partitionOf('w', c, 2)).toBe(index);
    }
    expect([...handled[0]].filter((c) => handled[1].has(c))).toEqual([]);
    expect(new Set([...handled[0], ...handled[1]])).toEqual(new Set(customers));
    for (const c of customers) expect((await typesOf(store, c)).filter((t) => t === 'StageChanged')).toHaveLength(1);
  });
});
