import { customerStreamId, deterministicId } from '@journey/domain';
import { SqliteEventStore, listDeadLetters, openSqliteDatabase, requestDeadLetterRetry, type EventStore } from '@journey/event-store';
import { partitionOf } from '../runtime/partition';
import { eventually } from '../testing/eventually';
import { appendToCustomer, customerEvent } from '../testing/events';
import { FakeClock } from '../testing/fake-clock';
import { TimerScheduler } from './timer-scheduler';

const START = Date.parse('2025-01-01T00:00:00.000Z');
const iso = (offsetMs: number) => new Date(START + offsetMs).toISOString();

const schedule = (store: EventStore, customer: string, timerId: string, dueInMs: number) =>
  appendToCustomer(
    store,
    customerEvent(customer, 'TimerScheduled', { timerId, dueAt: iso(dueInMs), purpose: 'test:reminder', payload: { n: timerId } }, iso(0)),
  );
const cancel = (store: EventStore, customer: string, timerId: string) =>
  appendToCustomer(store, customerEvent(customer, 'TimerCancelled', { timerId, reason: 'test' }, iso(0)));
const firedIds = async (store: EventStore) =>
  (await store.readAll({ filter: { eventTypes: ['TimerFired'] } })).map((e) => (e.data as { timerId: string }).timerId);

describe('TimerScheduler', () => {
  let store: EventStore;
  let clock: FakeClock;
  const schedulers: TimerScheduler[] = [];
  const startScheduler = async (options: Partial<ConstructorParameters<typeof TimerScheduler>[0]> = {}) => {
    const scheduler = new TimerScheduler({ store, clock, ...options });
    schedulers.push(scheduler);
    await scheduler.start();
    return scheduler;
  };
  /** Moves the fake clock and waits for the firing it caused to be appended. */
  const advance = async (scheduler: TimerScheduler, ms: number) => {
    clock.advance(ms);
    await scheduler.settled();
  };

  beforeEach(() => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    clock = new FakeClock(iso(0));
  });
  afterEach(async () => {
    await Promise.all(schedulers.splice(0).map((s) => s.stop()));
  });

  it('fires at the due time, not before, appending TimerFired with a deterministic id to the customer stream', async () => {
    const scheduler = await startScheduler();
    await schedule(store, 'c1', 't1', 60_000);
    await eventually(() => expect(scheduler.pendingCount).toBe(1));
    await advance(scheduler, 59_999);
    expect(await firedIds(store)).toEqual([]);
    await advance(scheduler, 1);
    const [fired] = (await store.readStream(customerStreamId('w', 'c1'))).filter((e) => e.type === 'TimerFired');
    expect(fired).toMatchObject({
      id: deterministicId('timer-fired', 't1'),
      data: { timerId: 't1', purpose: 'test:reminder', payload: { n: 't1' } },
      metadata: { workspaceId: 'w', customerId: 'c1', occurredAt: iso(60_000), recordedAt: iso(60_000), source: 'timer' },
    });
    expect(scheduler.pendingCount).toBe(0);
  });

  it('keeps one clock timeout for the earliest timer and fires many timers in due order', async () => {
    const scheduler = await startScheduler();
    const dues = [50, 10, 40, 30, 20, 70, 60].map((s) => s * 1000);
    for (const [i, due] of dues.entries()) await schedule(store, `c${i}`, `t${due}`, due);
    await eventually(() => expect(scheduler.pendingCount).toBe(dues.length));
    expect(clock.scheduled).toBe(1);
    for (let s = 0; s < 70; s += 5) await advance(scheduler, 5_000);
    expect(await firedIds(store)).toEqual([...dues].sort((a, b) => a - b).map((d) => `t${d}`));
  });

  it('cancelled timers do not fire', async () => {
    const scheduler = await startScheduler();
    await schedule(store, 'c1', 'keep', 10_000);
    await schedule(store, 'c1', 'drop', 5_000);
    await cancel(store, 'c1', 'drop');
    await eventually(() => expect(scheduler.pendingCount).toBe(1));
    await advance(scheduler, 60_000);
    expect(await firedIds(store)).toEqual(['keep']);
  });

  it('a restart rebuilds the pending timers from the log and fires the overdue ones exactly once', async () => {
    const first = await startScheduler();
    await schedule(store, 'c1', 'overdue', 10_000);
    await schedule(store, 'c2', 'later', 100_000);
    await schedule(store, 'c3', 'cancelled', 20_000);
    await cancel(store, 'c3', 'cancelled');
    await eventually(() => expect(first.pendingCount).toBe(2));
    await first.stop();
    clock.advance(50_000); // the engine is down while "overdue" falls due
    expect(await firedIds(store)).toEqual([]);

    const second = await startScheduler();
    const alsoRunning = await startScheduler(); // e.g. an old process not yet gone: still one TimerFired per timer
    expect(second.pendingCount).toBe(2);
    clock.advance(0);
    await Promise.all([second.settled(), alsoRunning.settled()]);
    expect(await firedIds(store)).toEqual(['overdue']);
    await eventually(() => expect(second.pendingCount).toBe(1));
    await second.stop();

    const third = await startScheduler();
    expect(third.pendingCount).toBe(1);
    await advance(third, 50_000);
    await alsoRunning.settled();
    expect((await firedIds(store)).sort()).toEqual(['later', 'overdue']);
  });

  it('re-arms timers due later than the longest setTimeout delay', async () => {
    const scheduler = await startScheduler();
    const fortyDays = 40 * 86_400_000;
    await schedule(store, 'c1', 'far', fortyDays);
    await eventually(() => expect(scheduler.pendingCount).toBe(1));
    await advance(scheduler, 2 ** 31 - 1);
    expect(await firedIds(store)).toEqual([]);
    expect(clock.scheduled).toBe(1);
    await advance(scheduler, fortyDays - (2 ** 31 - 1));
    expect(await firedIds(store)).toEqual(['far']);
  });

  it('only fires the timers of the customers of its partition', async () => {
    const customers = Array.from({ length: 12 }, (_, i) => `c${i}`);
    const appended: Array<[number, number]> = [];
    const scheduler = await startScheduler({
      partition: { index: 1, count: 3 },
      onAppended: (written, duplicates) => appended.push([written, duplicates]),
    });
    for (const c of customers) await schedule(store, c, `t-${c}`, 1_000);
    const owned = customers.filter((c) => partitionOf('w', c, 3) === 1);
    expect(owned.length).toBeGreaterThan(0);
    await eventually(() => expect(scheduler.pendingCount).toBe(owned.length));
    await advance(scheduler, 1_000);
    expect((await firedIds(store)).sort()).toEqual(owned.map((c) => `t-${c}`).sort());
    expect(appended).toEqual([[owned.length, 0]]);
  });

  it('retries when the append fails, without losing the timer', async () => {
    const errors: string[] = [];
    const failing = Object.create(store) as EventStore;
    let failuresLeft = 1;
    failing.appendMany = (requests) => (failuresLeft-- > 0 ? Promise.reject(new Error('disk full')) : store.appendMany(requests));
    const scheduler = await startScheduler({
      store: failing,
      retryMs: 5_000,
      logger: { log: () => undefined, error: (m) => errors.push(m) },
    });
    await schedule(store, 'c1', 't1', 1_000);
    await eventually(() => expect(scheduler.pendingCount).toBe(1));
    await advance(scheduler, 1_000);
    expect(errors).toEqual([expect.stringContaining('disk full')]);
    expect(await firedIds(store)).toEqual([]);
    await advance(scheduler, 4_999);
    expect(await firedIds(store)).toEqual([]);
    await advance(scheduler, 1);
    expect(await firedIds(store)).toEqual(['t1']);
  });

  it('quarantines a timer whose TimerFired the store keeps rejecting, and fires the other timers (due with it and later); a retry fires it once fixed', async () => {
    const rejecting = Object.create(store) as EventStore;
    let broken = true;
    rejecting.appendMany = (requests, options) =>
      broken && requests.some((r) => r.streamId === customerStreamId('w', 'bad'))
        ? Promise.reject(new TypeError('stream customer-w-bad rejects the event'))
        : store.appendMany(requests, options);
    const quarantined: string[] = [];
    const scheduler = await startScheduler({
      store: rejecting,
      retryMs: 10,
      failures: { onQuarantined: (s) => quarantined.push(s) },
      logger: { log: () => undefined, error: () => undefined },
    });
    for (const c of ['c1', 'bad', 'c2']) await schedule(store, c, `t-${c}`, 1_000);
    await schedule(store, 'c3', 't-c3', 5_000);
    await eventually(() => expect(scheduler.pendingCount).toBe(4));
    await advance(scheduler, 1_000);
    expect((await firedIds(store)).sort()).toEqual(['t-c1', 't-c2']);
    await advance(scheduler, 10); // second attempt
    await advance(scheduler, 20); // third: quarantined
    expect(quarantined).toEqual(['timers']);
    const [letter] = await listDeadLetters(store, 'w');
    expect(letter).toMatchObject({
      status: 'quarantined',
      subscriber: 'timers',
      customerId: 'bad',
      eventType: 'TimerScheduled',
      reason: 'TypeError',
      attempts: 3,
    });
    expect(scheduler.lastError).toBeUndefined();
    await advance(scheduler, 4_000);
    expect((await firedIds(store)).sort()).toEqual(['t-c1', 't-c2', 't-c3']);
    expect(scheduler.pendingCount).toBe(0);

    broken = false;
    await requestDeadLetterRetry(store, 'w', letter.id, 'test');
    await eventually(async () => expect((await listDeadLetters(store, 'w'))[0].status).toBe('resolved'));
    expect((await firedIds(store)).sort()).toEqual(['t-bad', 't-c1', 't-c2', 't-c3']);
  });

  it('retries firing while the store is out (transient), however many times, reporting lastError until it heals', async () => {
    const busy = Object.create(store) as EventStore;
    let failuresLeft = 5;
    busy.appendMany = (requests, options) =>
      failuresLeft-- > 0
        ? Promise.reject(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }))
        : store.appendMany(requests, options);
    const scheduler = await startScheduler({ store: busy, retryMs: 10, logger: { log: () => undefined, error: () => undefined } });
    await schedule(store, 'c1', 't1', 1_000);
    await eventually(() => expect(scheduler.pendingCount).toBe(1));
    await advance(scheduler, 1_000);
    expect(scheduler.lastError?.message).toBe('database is locked');
    for (let i = 0; i < 5; i++) await advance(scheduler, 1_000);
    expect(await firedIds(store)).toEqual(['t1']);
    expect(scheduler.lastError).toBeUndefined();
    expect(await listDeadLetters(store, 'w')).toEqual([]);
  });

  it('quarantines a timer event it cannot read, at start and live, and keeps the other timers', async () => {
    const unreadable = () => ({ ...customerEvent('odd', 'TimerScheduled', {}, iso(0)), data: null as unknown as Record<string, unknown> });
    await appendToCustomer(store, unreadable());
    await schedule(store, 'c1', 't1', 1_000);
    const scheduler = await startScheduler({ retryMs: 1, logger: { log: () => undefined, error: () => undefined } });
    await appendToCustomer(store, unreadable());
    await schedule(store, 'c2', 't2', 1_000);
    await eventually(() => expect(scheduler.pendingCount).toBe(2));
    await eventually(async () =>
      expect((await listDeadLetters(store, 'w')).map((l) => [l.customerId, l.reason])).toEqual([
        ['odd', 'TypeError'],
        ['odd', 'TypeError'],
      ]),
    );
    await advance(scheduler, 1_000);
    expect((await firedIds(store)).sort()).toEqual(['t1', 't2']);
  });
});
