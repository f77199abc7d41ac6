import { customerStreamId, replayStream, type RecordedEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { FakeClock } from '../testing/fake-clock';
import { appendToCustomer, customerEvent } from '../testing/events';
import type { ReactorContext } from '../runtime/reactor';
import { StageReactor, stageDecider } from './stage-reactor';

const at = '2025-01-01T00:00:00.000Z';
const identify = (c: string) => customerEvent(c, 'CustomerIdentified', { userId: c, traits: {} }, at);
const track = (c: string, name: string) => customerEvent(c, 'InteractionRecorded', { event: name, properties: {} }, at);
/** The stage state the reactor decides `input` against, rebuilt from the stream. */
const stateBefore = (stream: RecordedEvent[], input: RecordedEvent) => replayStream(stageDecider(), stream, input.revision - 1n);

describe('StageReactor', () => {
  let store: EventStore;
  let ctx: ReactorContext;
  const stream = (c: string) => store.readStream(customerStreamId('w', c));
  /** What the runner does: react to `events`, append the result. */
  const react = async (reactor: StageReactor, events: RecordedEvent[]) => {
    const appends = await reactor.react(events, ctx);
    if (appends.length) await store.appendMany(appends);
    return appends.flatMap((a) => a.events.map((e) => e.type));
  };

  beforeEach(() => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    const clock = new FakeClock(at);
    ctx = { store, now: () => clock.now(), owns: () => true };
  });

  it('decides each event against the state before it, even when the effects of an earlier event landed after it in the stream', async () => {
    const reactor = new StageReactor();
    await appendToCustomer(store, identify('c1'));
    await appendToCustomer(store, track('c1', 'Logged In'));
    const [identified, loggedIn] = await stream('c1');
    // the identify is handled first; its effects are appended after the track event
    expect(await react(reactor, [identified])).toEqual(['StageChanged', 'TimerScheduled']);
    expect(stateBefore(await stream('c1'), loggedIn).state).toMatchObject({ stage: 'onboarding', inactivityTimer: expect.any(Object) });
    expect(stateBefore(await stream('c1'), identified).state).toEqual({ stage: null });
    // then the track event: the customer is already onboarding, nothing more to do
    expect(await react(reactor, [loggedIn])).toEqual([]);
    // a replay of both (crash before the checkpoint, same process or a new one) answers with the same events: all duplicates
    for (const replaying of [reactor, new StageReactor()]) {
      const results = await store.appendMany(await replaying.react([identified, loggedIn], ctx));
      expect(results.map((r) => r.written)).toEqual([0]);
    }
  });

  it('carries the state through a batch, skips customers of other partitions and timers of other owners', async () => {
    const reactor = new StageReactor();
    for (const e of [identify('mine'), track('mine', 'Project Created'), identify('theirs')]) await appendToCustomer(store, e);
    await appendToCustomer(store, customerEvent('mine', 'TimerFired', { timerId: 'x', purpose: 'trigger:t1' }, at));
    const all = await store.readAll();
    const owned: ReactorContext = { ...ctx, owns: (_w, c) => c === 'mine' };
    const appends = await reactor.react(all, owned);
    expect(
      appends.map((a) => [a.streamId, a.events.map((e) => (e.type === 'StageChanged' ? `${e.data.from}->${e.data.to}` : e.type))]),
    ).toEqual([
      [customerStreamId('w', 'mine'), ['null->onboarding', 'TimerScheduled']],
      [customerStreamId('w', 'mine'), ['onboarding->active']],
    ]);
  });
});
