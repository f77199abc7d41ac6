import {
  customerStreamId,
  decideTrigger,
  deterministicId,
  initialTriggerState,
  evolveTrigger,
  triggerStreamId,
  type TriggerCommand,
  type RecordedEvent,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { appendToCustomer, customerEvent } from '../testing/events';
import { FakeClock } from '../testing/fake-clock';
import type { ReactorContext } from '../runtime/reactor';
import { TriggerReactor } from './trigger-reactor';

const nudge = {
  id: 'activation',
  name: 'Activation nudge',
  entry: { absent: { event: 'Activated', for: '3d', after: { event: 'CustomerIdentified' } } },
  steps: [{ send: { channel: 'email', subject: 'Need a hand?', body: 'Hi' } }],
};

describe('TriggerReactor', () => {
  let store: EventStore;
  let clock: FakeClock;
  let ctx: ReactorContext;
  let after = 0n;
  const stream = (c: string) => store.readStream(customerStreamId('w', c));
  /** What the runner does: deliver the new events of the log, append what the reactor returns. */
  const step = async (reactor: TriggerReactor) => {
    const events = await store.readAll({ after, filter: reactor.filter });
    if (events.length) after = events[events.length - 1].position;
    const appends = await reactor.react(events, ctx);
    if (appends.length) await store.appendMany(appends);
    return appends.flatMap((a) => a.events.map((e) => e.type));
  };
  const admin = async (...commands: TriggerCommand[]) => {
    const events = await store.readStream(triggerStreamId('w', nudge.id));
    let state = events.reduce(evolveTrigger, initialTriggerState(nudge.id));
    for (const c of commands) {
      const decided = decideTrigger(c, state, { workspaceId: 'w', now: clock.now() });
      await store.appendToStream(triggerStreamId('w', nudge.id), decided);
      state = decided.reduce(evolveTrigger, state);
    }
  };
  /** What the TimerScheduler does for a due timer. */
  const fire = async (c: string, scheduled: RecordedEvent) => {
    const { timerId, purpose, payload } = scheduled.data as { timerId: string; purpose: string; payload: Record<string, unknown> };
    await appendToCustomer(store, {
      ...customerEvent(c, 'TimerFired', { timerId, purpose, payload }, clock.now().toISOString()),
      id: deterministicId('timer-fired', timerId),
    });
  };

  beforeEach(() => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    clock = new FakeClock('2025-03-01T10:00:00.000Z');
    ctx = { store, now: () => clock.now(), owns: () => true };
    after = 0n;
  });

  it('given an enabled trigger in the log, arms on identify, sends when the timer fires; a replay appends nothing new', async () => {
    await admin({ type: 'DefineTrigger', definition: nudge }, { type: 'EnableTrigger' });
    await appendToCustomer(store, customerEvent('c1', 'CustomerIdentified', { userId: 'c1', traits: {} }, clock.now().toISOString()));
    await appendToCustomer(store, customerEvent('c2', 'CustomerIdentified', { userId: 'c2', traits: {} }, clock.now().toISOString()));
    const reactor = new TriggerReactor();
    expect(await step(reactor)).toEqual(['TimerScheduled', 'TimerScheduled']);

    clock.set('2025-03-02T10:00:00.000Z');
    await appendToCustomer(
      store,
      customerEvent('c2', 'InteractionRecorded', { event: 'Activated', properties: {} }, clock.now().toISOString()),
    );
    expect(await step(reactor)).toEqual(['TimerCancelled']);

    clock.set('2025-03-04T10:00:00.000Z');
    for (const c of ['c1', 'c2'])
      await fire(
        c,
        (await stream(c)).find((e) => e.type === 'TimerScheduled')!,
      );
    expect(await step(reactor)).toEqual(['TriggerMatched', 'TriggerRunStepEntered', 'MessageScheduled', 'TriggerRunExited']);

    // a fresh reactor replaying the whole log (lost checkpoint) decides the same events: all duplicates
    const replay = new TriggerReactor();
    const all = await store.readAll({ filter: replay.filter });
    const appends = await replay.react(all, ctx);
    const written = appends.length ? await store.appendMany(appends) : [];
    expect(written.reduce((n, r) => n + r.written, 0)).toBe(0);
    expect((await stream('c1')).filter((e) => e.type === 'MessageScheduled')).toHaveLength(1);
  });

  it('given a reply step with a Liquid body, renders it for the customer (the default renderer); a replay after the trait changed writes nothing again', async () => {
    const personal = {
      id: 'personal',
      name: 'Personal answer',
      reentry: 'every',
      entry: { reply: {} },
      steps: [{ reply: { body: 'Hi {{ customer.traits.name }}, on it.' } }],
    };
    let state = initialTriggerState(personal.id);
    for (const c of [{ type: 'DefineTrigger', definition: personal }, { type: 'EnableTrigger' }] as TriggerCommand[]) {
      const decided = decideTrigger(c, state, { workspaceId: 'w', now: clock.now() });
      await store.appendToStream(triggerStreamId('w', personal.id), decided);
      state = decided.reduce(evolveTrigger, state);
    }
    const now = clock.now().toISOString();
    await appendToCustomer(store, customerEvent('c1', 'CustomerIdentified', { userId: 'c1', traits: { name: 'Ada' } }, now));
    await appendToCustomer(store, customerEvent('c1', 'ConversationStarted', { conversationId: 'k1', channel: 'inbox' }, now));
    await appendToCustomer(
      store,
      customerEvent('c1', 'CustomerReplied', { conversationId: 'k1', messageId: 'm1', channel: 'inbox', body: 'help' }, now),
    );
    const reactor = new TriggerReactor();
    expect(await step(reactor)).toEqual(['TriggerMatched', 'TriggerRunStepEntered', 'AgentReplied', 'TriggerRunExited']);
    const replied = () => stream('c1').then((es) => es.filter((e) => e.type === 'AgentReplied').map((e) => e.data.body));
    expect(await replied()).toEqual(['Hi Ada, on it.']);

    await appendToCustomer(store, customerEvent('c1', 'TraitsUpdated', { traits: { name: 'Bea' } }, now));
    const replay = new TriggerReactor();
    const appends = await replay.react(await store.readAll({ filter: replay.filter }), ctx);
    const written = appends.length ? await store.appendMany(appends) : [];
    expect(written.reduce((n, r) => n + r.written, 0)).toBe(0);
    expect(await replied()).toEqual(['Hi Ada, on it.']);
  });

  it('ignores customers before the trigger is enabled, and ends active runs when it is disabled', async () => {
    await admin({
      type: 'DefineTrigger',
      definition: { ...nudge, entry: { event: 'Ping' }, steps: [{ wait: { duration: '1d' } }, nudge.steps[0]] },
    });
    const reactor = new TriggerReactor();
    await appendToCustomer(store, customerEvent('c1', 'InteractionRecorded', { event: 'Ping', properties: {} }, clock.now().toISOString()));
    expect(await step(reactor)).toEqual([]);
    await admin({ type: 'EnableTrigger' });
    await appendToCustomer(store, customerEvent('c1', 'InteractionRecorded', { event: 'Ping', properties: {} }, clock.now().toISOString()));
    expect(await step(reactor)).toEqual(['TriggerMatched', 'TriggerRunStepEntered', 'TimerScheduled']);
    await admin({ type: 'DisableTrigger' });
    await appendToCustomer(
      store,
      customerEvent('c1', 'InteractionRecorded', { event: 'Other', properties: {} }, clock.now().toISOString()),
    );
    expect(await step(reactor)).toEqual(['TimerCancelled', 'TriggerRunExited']);
  });

  it('given more trigger definition events than one page of the log before its first batch, then it loads them all', async () => {
    // 1,200 enable / disable events of another trigger first, then the nudge, defined and enabled
    let state = initialTriggerState('noisy');
    const noisy = { ...nudge, id: 'noisy', entry: { event: 'Never' } };
    for (let i = 0; i < 1201; i++) {
      const command: TriggerCommand =
        i === 0 ? { type: 'DefineTrigger', definition: noisy } : { type: i % 2 ? 'EnableTrigger' : 'DisableTrigger' };
      const decided = decideTrigger(command, state, { workspaceId: 'w', now: clock.now() });
      await store.appendToStream(triggerStreamId('w', 'noisy'), decided);
      state = decided.reduce(evolveTrigger, state);
    }
    await admin({ type: 'DefineTrigger', definition: nudge }, { type: 'EnableTrigger' });
    await appendToCustomer(store, customerEvent('c1', 'CustomerIdentified', { userId: 'c1', traits: {} }, clock.now().toISOString()));
    after = (await store.headPosition()) - 1n;
    expect(await step(new TriggerReactor())).toEqual(['TimerScheduled']);
  });

  /** Appends the trigger's commands to its stream, as the API does. */
  const define = async (id: string, ...commands: TriggerCommand[]) => {
    let state = (await store.readStream(triggerStreamId('w', id))).reduce(evolveTrigger, initialTriggerState(id));
    for (const c of commands) {
      const decided = decideTrigger(c, state, { workspaceId: 'w', now: clock.now() });
      await store.appendToStream(triggerStreamId('w', id), decided);
      state = decided.reduce(evolveTrigger, state);
    }
  };
  const track = (c: string, event: string, properties: Record<string, unknown> = {}) =>
    appendToCustomer(store, customerEvent(c, 'InteractionRecorded', { event, properties }, clock.now().toISOString()));
  /** The TimerScheduler: fires the pending timers due by now. */
  const fireDue = async (c: string) => {
    const events = await stream(c);
    const done = new Set(events.filter((e) => e.type === 'TimerFired' || e.type === 'TimerCancelled').map((e) => String(e.data.timerId)));
    for (const e of events)
      if (e.type === 'TimerScheduled' && !done.has(String(e.data.timerId)) && Date.parse(String(e.data.dueAt)) <= clock.now().getTime())
        await fire(c, e);
  };
  const replayWritesNothing = async () => {
    const replay = new TriggerReactor();
    const appends = await replay.react(await store.readAll({ filter: replay.filter }), ctx);
    const written = appends.length ? await store.appendMany(appends) : [];
    expect(written.reduce((n, r) => n + r.written, 0)).toBe(0);
  };

  it('given a keyed trigger, two carts get two runs; each timer fires into its key’s run; a cart-less exit ends the rest; a replay writes nothing', async () => {
    await define(
      'cart',
      {
        type: 'DefineTrigger',
        definition: {
          id: 'cart',
          name: 'Abandoned cart',
          key: 'properties.cartId',
          entry: { event: 'Cart Updated' },
          exit: [{ when: { event: 'Unsubscribed' } }],
          steps: [
            { wait: { duration: '1h' } },
            { send: { channel: 'email', subject: 'Your cart', body: 'Hi' } },
            { wait: { duration: '1d' } },
          ],
        },
      },
      { type: 'EnableTrigger' },
    );
    const reactor = new TriggerReactor();
    await track('c1', 'Cart Updated', { cartId: 'A' });
    await track('c1', 'Cart Updated', { cartId: 'B' });
    await step(reactor);
    const matched = (await stream('c1')).filter((e) => e.type === 'TriggerMatched');
    expect(matched.map((e) => e.data.key)).toEqual(['A', 'B']);

    clock.set('2025-03-01T11:00:00.000Z');
    await fireDue('c1');
    await step(reactor);
    const sent = (await stream('c1')).filter((e) => e.type === 'MessageScheduled');
    expect(sent.map((e) => e.data.runId)).toEqual(matched.map((e) => e.data.runId));

    await track('c1', 'Unsubscribed');
    expect(await step(reactor)).toEqual(['TimerCancelled', 'TriggerRunExited', 'TimerCancelled', 'TriggerRunExited']);
    await replayWritesNothing();
  });

  it('given v2 live and v1 in shadow, both decide on each input in their own runs; the shadow’s timer moves only the shadow run, its send is a MessageShadowed; stopped, it ends', async () => {
    const matches: Array<[string, number]> = [];
    const doc = (subject: string, wait: string) => ({
      id: 'upsell',
      name: 'Upsell',
      reentry: 'every',
      entry: { event: 'Report Created' },
      steps: [{ wait: { duration: wait } }, { send: { channel: 'email', subject, body: 'Hi' } }, { wait: { duration: '1d' } }],
    });
    await define(
      'upsell',
      { type: 'DefineTrigger', definition: doc('old', '1h') },
      { type: 'DefineTrigger', definition: doc('new', '2h') },
      { type: 'EnableTrigger' },
      { type: 'StartShadow', version: 1 },
    );
    const reactor = new TriggerReactor({ onMatched: (t, v) => matches.push([t, v]) });
    await track('c1', 'Report Created');
    await step(reactor);
    expect(matches).toEqual([['upsell', 2]]);
    const runs = (await stream('c1')).filter((e) => e.type === 'TriggerMatched');
    expect(runs.map((e) => [e.data.version, e.data.shadow])).toEqual([
      [2, undefined],
      [1, true],
    ]);

    clock.set('2025-03-01T11:00:00.000Z');
    await fireDue('c1');
    expect(await step(reactor)).toEqual(['TriggerRunStepEntered', 'MessageShadowed', 'TriggerRunStepEntered', 'TimerScheduled']);
    expect((await stream('c1')).filter((e) => e.type === 'MessageScheduled')).toEqual([]);

    clock.set('2025-03-01T12:00:00.000Z');
    await fireDue('c1');
    expect(await step(reactor)).toEqual(['TriggerRunStepEntered', 'MessageScheduled', 'TriggerRunStepEntered', 'TimerScheduled']);
    const scheduled = (await stream('c1')).filter((e) => e.type === 'MessageScheduled');
    expect(scheduled.map((e) => [e.data.runId, e.data.triggerVersion])).toEqual([[runs[0].data.runId, 2]]);

    await define('upsell', { type: 'StopShadow' });
    await track('c1', 'Something');
    expect(await step(reactor)).toEqual(['TimerCancelled', 'TriggerRunExited']);
    const exited = (await stream('c1')).filter((e) => e.type === 'TriggerRunExited');
    expect(exited.map((e) => [e.data.reason, e.data.shadow])).toEqual([['shadow stopped', true]]);
    await replayWritesNothing();
  });
});
