import {
  broadcastStreamId,
  customerStreamId,
  decideBroadcast,
  deterministicId,
  envelope,
  foldBroadcast,
  type RecordedEvent,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { appendToCustomer, customerEvent } from '../testing/events';
import { FakeClock } from '../testing/fake-clock';
import type { ReactorContext } from '../runtime/reactor';
import { BroadcastReactor, type SegmentMembers } from './broadcast-reactor';

const MEMBERS = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7'];

describe('BroadcastReactor: the fan-out over a segment’s members', () => {
  let store: EventStore;
  let clock: FakeClock;
  let ctx: ReactorContext;
  /** Pages asked for (their size is the memory the fan-out holds). */
  let pages: Array<{ after?: string; limit: number; got: number }>;
  let onPage: (n: number) => Promise<void>;
  const members: SegmentMembers = {
    async page(_ws, _segment, after, limit) {
      await onPage(pages.length);
      const got = MEMBERS.filter((c) => after === undefined || c > after).slice(0, limit);
      pages.push({ after, limit, got: got.length });
      return got;
    },
  };
  const broadcastStream = () => store.readStream(broadcastStreamId('w', 'b1'));
  const decisions = async () => {
    const out: string[] = [];
    for (const c of MEMBERS)
      for (const e of await store.readStream(customerStreamId('w', c)))
        if (e.type === 'MessageScheduled' || e.type === 'MessageSuppressed') out.push(`${c}:${e.type}`);
    return out;
  };

  beforeEach(async () => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    clock = new FakeClock('2026-12-09T12:00:00.000Z');
    ctx = { store, now: () => clock.now(), owns: () => true };
    pages = [];
    onPage = async () => undefined;
    for (const c of MEMBERS) {
      await appendToCustomer(store, customerEvent(c, 'CustomerIdentified', { userId: c, traits: { unsubscribed: c === 'c2' } }));
      await appendToCustomer(store, customerEvent(c, 'SegmentEntered', { segmentId: 'all', version: 1 }));
    }
    const scheduled = decideBroadcast(
      {
        type: 'ScheduleBroadcast',
        definition: { broadcastId: 'b1', segmentId: 'all', send: { channel: 'email', body: 'Hi' } },
        startAt: clock.now().getTime(),
      },
      foldBroadcast('b1', []),
      { workspaceId: 'w', now: clock.now() },
    );
    await store.appendToStream(broadcastStreamId('w', 'b1'), scheduled);
  });

  /** What the TimerScheduler does: fires the start timer; returns it as the runner delivers it. */
  async function fireStart(): Promise<RecordedEvent[]> {
    const timer = (await broadcastStream()).find((e) => e.type === 'TimerScheduled')!;
    const fired = envelope({
      id: deterministicId('timer-fired', String(timer.data.timerId)),
      type: 'TimerFired',
      data: { timerId: timer.data.timerId, purpose: timer.data.purpose, payload: timer.data.payload },
      workspaceId: 'w',
      customerId: '',
      occurredAt: clock.now().toISOString(),
      recordedAt: clock.now().toISOString(),
      source: 'timer',
      cause: timer,
    });
    const { position } = await store.appendToStream(broadcastStreamId('w', 'b1'), [fired]);
    return store.readAll({ after: position - 1n });
  }

  it('reads the members a page at a time, records its progress per page and completes with exact counts', async () => {
    const reactor = new BroadcastReactor(members, 3);
    await reactor.react(await fireStart(), ctx);
    expect(pages).toEqual([
      { after: undefined, limit: 3, got: 3 },
      { after: 'c3', limit: 3, got: 3 },
      { after: 'c6', limit: 3, got: 1 },
    ]);
    const types = (await broadcastStream()).map((e) => e.type);
    expect(types).toEqual([
      'BroadcastScheduled',
      'TimerScheduled',
      'TimerFired',
      'BroadcastProgressed',
      'BroadcastProgressed',
      'BroadcastCompleted',
    ]);
    expect(foldBroadcast('b1', await broadcastStream())).toMatchObject({
      status: 'completed',
      counts: { targeted: 7, scheduled: 6, suppressed: { consent: 1 }, timers: 0, skipped: 0 },
    });
    expect(await decisions()).toHaveLength(7);
  });

  it('after a crash mid-way it resumes where it stopped: nobody twice, the counts exact', async () => {
    const reactor = new BroadcastReactor(members, 3);
    const fired = await fireStart();
    // the second page's decisions are stored, then the process dies before its progress
    let crash = true;
    const crashing: EventStore = Object.create(store, {
      appendToStream: {
        value: async (...args: Parameters<EventStore['appendToStream']>) => {
          if (crash && args[0] === broadcastStreamId('w', 'b1') && pages.length === 2) {
            crash = false;
            throw new Error('process died');
          }
          return store.appendToStream(...args);
        },
      },
    });
    await expect(reactor.react(fired, { ...ctx, store: crashing })).rejects.toThrow('process died');
    expect(await decisions()).toHaveLength(6);
    // the runner redelivers the TimerFired (its checkpoint did not move), to a fresh process
    pages = [];
    await new BroadcastReactor(members, 3).react(fired, ctx);
    expect(pages.map((p) => p.after)).toEqual(['c3', 'c6']);
    expect(await decisions()).toHaveLength(7);
    expect(foldBroadcast('b1', await broadcastStream())).toMatchObject({
      status: 'completed',
      counts: { targeted: 7, scheduled: 6, suppressed: { consent: 1 } },
    });
    // and once more (a replay after completion): nothing
    await new BroadcastReactor(members, 3).react(fired, ctx);
    expect(await decisions()).toHaveLength(7);
  });

  it('a cancel during the fan-out stops it: the page in flight is not sent', async () => {
    const reactor = new BroadcastReactor(members, 3);
    onPage = async (n) => {
      if (n !== 1) return;
      const state = foldBroadcast('b1', await broadcastStream());
      await store.appendToStream(
        broadcastStreamId('w', 'b1'),
        decideBroadcast({ type: 'CancelBroadcast' }, state, { workspaceId: 'w', now: clock.now() }),
      );
    };
    await reactor.react(await fireStart(), ctx);
    expect(pages).toHaveLength(2);
    expect(foldBroadcast('b1', await broadcastStream()).status).toBe('cancelled');
    expect(await decisions()).toEqual(['c1:MessageScheduled', 'c2:MessageSuppressed', 'c3:MessageScheduled']);
  });
});
