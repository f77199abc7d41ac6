import {
  customerStreamId,
  decideTrigger,
  evolveTrigger,
  initialTriggerState,
  mergeCopy,
  triggerStreamId,
  type RecordedEvent,
  type TriggerCommand,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import type { Reactor, ReactorContext } from '../runtime/reactor';
import { StageReactor } from '../stage/stage-reactor';
import { appendToCustomer, customerEvent } from '../testing/events';
import { TriggerReactor } from '../triggers/trigger-reactor';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000).toISOString();
const powerUser = {
  id: 'power-user',
  name: 'Power user',
  entry: { count: { event: 'Feature Used', within: '7d', gte: 3 } },
  steps: [{ send: { channel: 'log', body: 'You use it a lot' } }],
};
const welcome = {
  id: 'welcome',
  name: 'Welcome on each use',
  reentry: 'every',
  entry: { event: 'Feature Used' },
  steps: [{ send: { channel: 'log', body: 'Hi' } }],
};

/** What the merge does to the trigger and stage reactors: history they fold, never decide on (#12). */
describe('a merged history, as the deciders see it', () => {
  let store: EventStore;
  let after: bigint;
  const ctx = (): ReactorContext => ({ store, now: () => NOW, owns: () => true });
  const types = async (c: string) => (await store.readStream(customerStreamId('w', c))).map((e) => e.type);
  const step = async (reactor: Reactor) => {
    const events = await store.readAll({ after, filter: reactor.filter });
    if (events.length) after = events[events.length - 1].position;
    const appends = await reactor.react(events, ctx());
    if (appends.length) await store.appendMany(appends);
    return appends.flatMap((a) => a.events.map((e) => e.type));
  };
  const define = async (definition: Record<string, unknown>) => {
    let state = initialTriggerState(String(definition.id));
    const commands: TriggerCommand[] = [{ type: 'DefineTrigger', definition }, { type: 'EnableTrigger' }];
    for (const c of commands) {
      const decided = decideTrigger(c, state, { workspaceId: 'w', now: NOW });
      await store.appendToStream(triggerStreamId('w', String(definition.id)), decided);
      state = decided.reduce(evolveTrigger, state);
    }
  };
  const anonUse = (m: number) => customerEvent('anon', 'InteractionRecorded', { event: 'Feature Used', properties: {} }, minutesAgo(m));
  const copy = (e: ReturnType<typeof anonUse>) => appendToCustomer(store, mergeCopy(e, 'u1', NOW));

  beforeEach(async () => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    after = 0n;
    await define(powerUser);
    await define(welcome);
  });
  afterEach(async () => store.close());

  it('starts no run on copies (recent ones included) and counts them on the next live event', async () => {
    const reactor = new TriggerReactor();
    await appendToCustomer(store, customerEvent('u1', 'CustomerIdentified', { userId: 'u1', traits: {} }, minutesAgo(5)));
    expect(await step(reactor)).toEqual([]);
    await copy(anonUse(30));
    await copy(anonUse(20));
    expect(await step(reactor)).toEqual([]); // two recent Feature Used: no welcome sent for history
    await appendToCustomer(store, customerEvent('u1', 'InteractionRecorded', { event: 'Feature Used', properties: {} }, minutesAgo(1)));
    const decided = await step(reactor);
    // the live one: its welcome, and the power-user trigger, counting the two copies with it
    expect(decided.filter((t) => t === 'TriggerMatched')).toHaveLength(2);
    expect(decided.filter((t) => t === 'MessageScheduled')).toHaveLength(2);
  });

  it('decides the same after a rebuild from the stream (a new reactor): copies are still no inputs', async () => {
    await copy(anonUse(30));
    await copy(anonUse(20));
    await appendToCustomer(store, customerEvent('u1', 'InteractionRecorded', { event: 'Feature Used', properties: {} }, minutesAgo(1)));
    expect((await step(new TriggerReactor())).filter((t) => t === 'TriggerMatched')).toHaveLength(2);
  });

  it('decides nothing on a stream merged into another customer (its timers fire into a closed stream)', async () => {
    const reactor = new TriggerReactor();
    await appendToCustomer(store, customerEvent('anon', 'CustomerMergedInto', { userId: 'u1' }, minutesAgo(3)));
    await appendToCustomer(store, anonUse(2));
    expect(await step(reactor)).toEqual([]);
    expect(await step(new TriggerReactor())).toEqual([]);
    expect(await types('anon')).toEqual(['CustomerMergedInto', 'InteractionRecorded']);
  });

  it('moves no stage on a stream merged into another customer', async () => {
    const stage = new StageReactor();
    await appendToCustomer(store, customerEvent('anon', 'PageViewed', { kind: 'page', properties: {} }, minutesAgo(30)));
    expect(await step(stage)).toEqual(['StageChanged', 'TimerScheduled']);
    await appendToCustomer(store, customerEvent('anon', 'CustomerMergedInto', { userId: 'u1' }, minutesAgo(3)));
    await appendToCustomer(store, anonUse(2));
    expect(await step(stage)).toEqual([]);
    after = 0n;
    expect(await step(new StageReactor())).toEqual(['StageChanged', 'TimerScheduled']); // the replay answers its stored effects
  });

  it('moves no stage on copies: the copied history of an anonymous id does not onboard the user again', async () => {
    const stage = new StageReactor();
    await copy(customerEvent('anon', 'PageViewed', { kind: 'page', properties: {} }, minutesAgo(30)));
    expect(await step(stage)).toEqual([]);
    await appendToCustomer(store, customerEvent('u1', 'CustomerIdentified', { userId: 'u1', traits: {} }, minutesAgo(1)));
    expect(await step(stage)).toEqual(['StageChanged', 'TimerScheduled']);
    const stored: RecordedEvent[] = await store.readStream(customerStreamId('w', 'u1'));
    // the inactivity timer counts from the latest activity, copies included
    expect(stored.at(-1)).toMatchObject({ type: 'TimerScheduled' });
  });
});
