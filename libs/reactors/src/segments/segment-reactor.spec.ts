import {
  customerStreamId,
  decideSegment,
  deterministicId,
  evolveSegment,
  initialSegmentState,
  segmentStreamId,
  type RecordedEvent,
  type SegmentCommand,
} from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, listDeadLetters, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { appendToCustomer, customerEvent } from '../testing/events';
import { eventually } from '../testing/eventually';
import { FakeClock } from '../testing/fake-clock';
import type { ReactorContext } from '../runtime/reactor';
import { ReactorRunner } from '../runtime/reactor-runner';
import { SegmentReactor, type SegmentAudience } from './segment-reactor';

const ACTIVE = {
  id: 'active',
  name: 'Active',
  conditions: { all: [{ traits: { plan: 'pro' } }, { count: { event: 'Used', within: '1d', gte: 2 } }] },
};
const PRO = { id: 'pro', name: 'Pro', conditions: { traits: { plan: 'pro' } } };

describe('SegmentReactor', () => {
  let store: EventStore;
  let clock: FakeClock;
  let ctx: ReactorContext;
  let after = 0n;
  /** The customers the audience knows (the customers read model), and a segment's members (segment_members). */
  let known: string[];
  const audience: SegmentAudience = {
    customers: async (_ws, from, limit) => known.filter((c) => c > from).slice(0, limit),
    members: async (ws, segmentId, from, limit) => {
      const members: string[] = [];
      for (const c of known) {
        const types = (await store.readStream(customerStreamId(ws, c))).filter((e) => e.data.segmentId === segmentId).map((e) => e.type);
        if (types.filter((t) => t === 'SegmentEntered').length > types.filter((t) => t === 'SegmentLeft').length) members.push(c);
      }
      return members.filter((c) => c > from).slice(0, limit);
    },
    caughtUp: async () => true,
  };
  const types = async (c: string) =>
    (await store.readStream(customerStreamId('w', c))).map((e) =>
      e.type.startsWith('Segment') ? `${e.type} ${String(e.data.segmentId)}` : e.type,
    );
  /** What the runner does: deliver the new events of the log, append what the reactor returns. */
  const step = async (reactor: SegmentReactor) => {
    const events = await store.readAll({ after, filter: reactor.filter });
    if (events.length) after = events[events.length - 1].position;
    const appends = await reactor.react(events, ctx);
    if (appends.length) await store.appendMany(appends);
    return appends.flatMap((a) => a.events.map((e) => e.type));
  };
  const settle = async (reactor: SegmentReactor) => {
    for (let i = 0; i < 20 && (await step(reactor)).length > 0; i++);
  };
  const admin = async (segmentId: string, ...commands: SegmentCommand[]) => {
    let state = (await store.readStream(segmentStreamId('w', segmentId))).reduce(evolveSegment, initialSegmentState(segmentId));
    for (const c of commands) {
      const decided = decideSegment(c, state, { workspaceId: 'w', now: clock.now() });
      await store.appendToStream(segmentStreamId('w', segmentId), decided);
      state = decided.reduce(evolveSegment, state);
    }
  };
  const fire = async (c: string, scheduled: RecordedEvent) => {
    const { timerId, purpose, payload } = scheduled.data as { timerId: string; purpose: string; payload: Record<string, unknown> };
    await appendToCustomer(store, {
      ...customerEvent(c, 'TimerFired', { timerId, purpose, payload }, clock.now().toISOString()),
      id: deterministicId('timer-fired', timerId),
    });
  };
  const now = () => clock.now().toISOString();

  beforeEach(() => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    clock = new FakeClock('2026-03-01T10:00:00.000Z');
    ctx = { store, now: () => clock.now(), owns: () => true };
    after = 0n;
    known = [];
  });

  it('decides membership as events arrive, leaves when its timer fires, and a fresh reactor (a restart) appends nothing new', async () => {
    await admin('active', { type: 'DefineSegment', definition: ACTIVE });
    const reactor = new SegmentReactor(audience);
    await appendToCustomer(store, customerEvent('c1', 'CustomerIdentified', { userId: 'c1', traits: { plan: 'pro' } }, now()));
    await appendToCustomer(store, customerEvent('c1', 'InteractionRecorded', { event: 'Used', properties: {} }, now()));
    expect(await step(reactor)).toEqual(['SegmentBackfillProgressed']);
    clock.advance(60_000);
    await appendToCustomer(store, customerEvent('c1', 'InteractionRecorded', { event: 'Used', properties: {} }, now()));
    expect(await step(reactor)).toEqual(['SegmentEntered', 'TimerScheduled']);

    const timer = (await store.readStream(customerStreamId('w', 'c1'))).find((e) => e.type === 'TimerScheduled')!;
    expect(timer.data).toMatchObject({ purpose: 'segment:active', dueAt: '2026-03-02T10:00:00.000Z' });
    clock.set('2026-03-02T10:00:00.000Z');
    await fire('c1', timer);
    expect(await step(reactor)).toEqual(['SegmentLeft']);

    // a restart (no views, the checkpoint before everything) decides the same events: the store skips them all
    after = 0n;
    const before = (await store.readStream(customerStreamId('w', 'c1'))).length;
    await settle(new SegmentReactor(audience));
    expect((await store.readStream(customerStreamId('w', 'c1'))).length).toBe(before);
  });

  it('a new segment evaluates the existing customers once, page by page (backfill); a removal makes its members leave', async () => {
    for (const c of ['a', 'b', 'c', 'd', 'e']) {
      await appendToCustomer(
        store,
        customerEvent(c, 'CustomerIdentified', { userId: c, traits: { plan: c === 'c' ? 'free' : 'pro' } }, now()),
      );
      known.push(c);
    }
    const reactor = new SegmentReactor(audience, { pageSize: 2 });
    await settle(reactor);
    await admin('pro', { type: 'DefineSegment', definition: PRO });
    await settle(reactor);
    for (const c of ['a', 'b', 'd', 'e'])
      expect(await types(c)).toEqual(['CustomerIdentified', 'SegmentEvaluationRequested pro', 'SegmentEntered pro']);
    expect(await types('c')).toEqual(['CustomerIdentified', 'SegmentEvaluationRequested pro']);
    const progress = (await store.readStream(segmentStreamId('w', 'pro'))).filter((e) => e.type === 'SegmentBackfillProgressed');
    expect(progress.map((e) => [e.data.after, e.data.customers, e.data.done])).toEqual([
      ['b', 2, false],
      ['d', 4, false],
      ['e', 5, true],
    ]);

    await admin('pro', { type: 'RemoveSegment' });
    await settle(reactor);
    for (const c of ['a', 'b', 'd', 'e'])
      expect((await store.readStream(customerStreamId('w', c))).filter((e) => e.type === 'SegmentLeft').map((e) => e.data.reason)).toEqual([
        'segment-removed',
      ]);
  });

  it('never stops on bad input: a backfill that keeps failing is quarantined and customers are decided on after it', async () => {
    const db = openSqliteDatabase(':memory:');
    store = new SqliteEventStore(db);
    ctx = { ...ctx, store };
    const broken: SegmentAudience = { ...audience, customers: async () => Promise.reject(new TypeError('a bug in the audience')) };
    const quarantined: string[] = [];
    const runner = new ReactorRunner(new SegmentReactor(broken), {
      store,
      checkpoints: new SqliteCheckpointStore(db),
      clock,
      retry: { minMs: 1, maxMs: 5 },
      failures: { onQuarantined: (s) => quarantined.push(s) },
    });
    await admin('pro', { type: 'DefineSegment', definition: PRO });
    await runner.start();
    try {
      await appendToCustomer(store, customerEvent('c1', 'CustomerIdentified', { userId: 'c1', traits: { plan: 'pro' } }, now()));
      await eventually(async () => expect(await types('c1')).toEqual(['CustomerIdentified', 'SegmentEntered pro']));
      expect(quarantined).toEqual(['segments']);
      expect((await listDeadLetters(store, 'w'))[0]).toMatchObject({ subscriber: 'segments', eventType: 'SegmentDefined' });
      expect(runner.lastError).toBeUndefined();
    } finally {
      await runner.stop();
    }
  });
});
