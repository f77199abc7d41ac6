import type { JourneyEvent } from '../events';
import { Backtest } from './backtest';
import { decideOnView, emptyCustomerView, MAX_KEYED_RUNS, simulateCustomer } from './customer';
import { decideTrigger, evolveTrigger, initialTriggerState, TriggerCommandError, type TriggerCommand } from './definition';
import { triggerProgram, type TriggerProgram } from './program';
import type { TriggerDefinition } from './schema';
import { History, ofType } from './testing';
import { validateTrigger } from './validate';

const ctx = { workspaceId: 'ws', now: new Date('2025-01-01T00:00:00Z') };

/** A program after these commands (validated as the API does). */
function program(id: string, ...commands: TriggerCommand[]): TriggerProgram {
  let state = initialTriggerState(id);
  for (const c of commands) for (const e of decideTrigger(c, state, ctx)) state = evolveTrigger(state, e);
  return triggerProgram(state);
}
const define = (definition: unknown): TriggerCommand => ({ type: 'DefineTrigger', definition });
const enable: TriggerCommand = { type: 'EnableTrigger' };
const shadow = (version: number): TriggerCommand => ({ type: 'StartShadow', version });

const send = (subject: string) => ({ send: { channel: 'email', subject, body: subject } });
const subjects = (events: JourneyEvent[]) =>
  ofType(events, 'MessageScheduled').map((e) => (e.data.template as { subject: string }).subject);
const keysOf = (events: JourneyEvent[], type: string) => ofType(events, type as never).map((e) => e.data.key);

const cart = (extra: Partial<TriggerDefinition> = {}): TriggerDefinition => ({
  id: 'abandoned-cart',
  name: 'Abandoned cart',
  key: 'properties.cartId',
  entry: { event: 'Cart Updated' },
  exit: [
    { when: { event: 'Checkout Completed' }, reason: 'checked out' },
    { when: { event: 'Unsubscribed' }, reason: 'unsubscribed' },
  ],
  steps: [{ wait: { duration: '1h' } }, send('Your cart is waiting')],
  ...extra,
});

describe('keyed runs (key: properties.cartId)', () => {
  const p = program('abandoned-cart', define(cart()), enable);
  const until = new Date('2025-03-02T00:00:00Z');

  it('given two open carts, when an hour passes, then two runs (each with its key and its own id) and two reminders — deterministically', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:10:00Z', 'Cart Updated', { cartId: 'B' });
    const { decided } = simulateCustomer([p], h.events, until);
    expect(keysOf(decided, 'TriggerMatched')).toEqual(['A', 'B']);
    expect(subjects(decided)).toEqual(['Your cart is waiting', 'Your cart is waiting']);
    expect(ofType(decided, 'TriggerRunExited').map((e) => [e.data.key, e.data.reason])).toEqual([
      ['A', 'completed'],
      ['B', 'completed'],
    ]);
    expect(ofType(decided, 'TriggerRunStepEntered').every((e) => e.data.key === 'A' || e.data.key === 'B')).toBe(true);
    const runIds = ofType(decided, 'TriggerMatched').map((e) => e.data.runId);
    expect(new Set(runIds).size).toBe(2);
    expect(simulateCustomer([p], h.events, until).decided.map((e) => e.id)).toEqual(decided.map((e) => e.id));
  });

  it('given two carts, when cart A is checked out, then only A’s run ends and B’s reminder still goes', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:10:00Z', 'Cart Updated', { cartId: 'B' });
    h.track('2025-03-01T10:30:00Z', 'Checkout Completed', { cartId: 'A' });
    const { decided } = simulateCustomer([p], h.events, until);
    expect(ofType(decided, 'TriggerRunExited').map((e) => [e.data.key, e.data.reason])).toEqual([
      ['A', 'checked out'],
      ['B', 'completed'],
    ]);
    expect(ofType(decided, 'MessageScheduled').map((e) => e.data.runId)).toEqual([ofType(decided, 'TriggerMatched')[1].data.runId]);
  });

  it('given two carts, when an event without a cartId matches an exit rule, then it ends both runs (and cancels both timers)', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:10:00Z', 'Cart Updated', { cartId: 'B' });
    h.track('2025-03-01T10:30:00Z', 'Unsubscribed');
    const { decided } = simulateCustomer([p], h.events, until);
    expect(ofType(decided, 'TriggerRunExited').map((e) => [e.data.key, e.data.reason])).toEqual([
      ['A', 'unsubscribed'],
      ['B', 'unsubscribed'],
    ]);
    expect(ofType(decided, 'TimerCancelled')).toHaveLength(2);
    expect(subjects(decided)).toEqual([]);
  });

  it('given two waiting runs, when one timer fires, then it moves only its key’s run (the payload names the key)', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:40:00Z', 'Cart Updated', { cartId: 'B' });
    const { stream } = simulateCustomer([p], h.events, new Date('2025-03-01T11:20:00Z'));
    const scheduled = ofType(stream, 'TimerScheduled');
    expect(scheduled.map((e) => (e.data.payload as { key?: string }).key)).toEqual(['A', 'B']);
    const fired = ofType(stream, 'TimerFired');
    expect(fired.map((e) => (e.data.payload as { key?: string }).key)).toEqual(['A']);
    const afterFire = stream.slice(stream.indexOf(fired[0]) + 1);
    expect(afterFire.map((e) => [e.type, e.data.key])).toEqual([
      ['TriggerRunStepEntered', 'A'],
      ['MessageScheduled', undefined],
      ['TriggerRunExited', 'A'],
    ]);
  });

  it('given reentry once per key, when cart A is updated again, then no second run for A; a new cart C starts its own', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T12:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T13:00:00Z', 'Cart Updated', { cartId: 'C' });
    expect(keysOf(simulateCustomer([p], h.events, until).decided, 'TriggerMatched')).toEqual(['A', 'C']);

    const daily = program('abandoned-cart', define(cart({ reentry: { oncePer: '1d' } })), enable);
    h.track('2025-03-02T11:00:00Z', 'Cart Updated', { cartId: 'A' });
    expect(keysOf(simulateCustomer([daily], h.events, new Date('2025-03-03T00:00:00Z')).decided, 'TriggerMatched')).toEqual([
      'A',
      'C',
      'A',
    ]);
  });

  it('given an entry event without the key property (or a key that is no scalar), then no run starts', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated');
    h.track('2025-03-01T10:01:00Z', 'Cart Updated', { cartId: { id: 'A' } });
    h.track('2025-03-01T10:02:00Z', 'Cart Updated', { cartId: '' });
    expect(simulateCustomer([p], h.events, until).decided).toEqual([]);
  });

  it('given a wait until per key, when cart A checks out, then only A takes the onEvent branch; B times out', () => {
    const waits = program(
      'abandoned-cart',
      define(
        cart({
          exit: undefined,
          steps: [
            {
              wait: {
                until: { event: 'Checkout Completed' },
                timeout: '1d',
                onEvent: [send('Thanks for your order')],
                onTimeout: [send('Still want it?')],
              },
            },
          ],
        }),
      ),
      enable,
    );
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:10:00Z', 'Cart Updated', { cartId: 'B' });
    h.track('2025-03-01T11:00:00Z', 'Checkout Completed', { cartId: 'A' });
    expect(subjects(simulateCustomer([waits], h.events, new Date('2025-03-03T00:00:00Z')).decided)).toEqual([
      'Thanks for your order',
      'Still want it?',
    ]);
  });

  it('given a task per cart that a checkout closes, when cart A checks out, then only A’s task closes', () => {
    const tasks = program(
      'abandoned-cart',
      define(cart({ exit: undefined, steps: [{ task: { title: 'Call about the cart', closeOn: { event: 'Checkout Completed' } } }] })),
      enable,
    );
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:10:00Z', 'Cart Updated', { cartId: 'B' });
    h.track('2025-03-01T11:00:00Z', 'Checkout Completed', { cartId: 'A' });
    const { decided } = simulateCustomer([tasks], h.events, until);
    const opened = ofType(decided, 'CsmTaskOpened').map((e) => e.data.taskId);
    expect(opened).toHaveLength(2);
    expect(ofType(decided, 'CsmTaskClosed').map((e) => e.data.taskId)).toEqual([opened[0]]);
    // a checkout without a cartId closes the rest
    h.track('2025-03-01T12:00:00Z', 'Checkout Completed');
    expect(ofType(simulateCustomer([tasks], h.events, until).decided, 'CsmTaskClosed').map((e) => e.data.taskId)).toEqual(opened);
  });

  it('given a temporal entry per key (no checkout 1h after a cart update), then a checkout of cart B does not cancel cart A’s watch', () => {
    const absent = program(
      'abandoned-cart',
      define(
        cart({
          exit: undefined,
          entry: { absent: { event: 'Checkout Completed', for: '1h', after: { event: 'Cart Updated' } } },
          steps: [send('Forgot something?')],
        }),
      ),
      enable,
    );
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:05:00Z', 'Cart Updated', { cartId: 'B' });
    h.track('2025-03-01T10:20:00Z', 'Checkout Completed', { cartId: 'B' });
    const { decided } = simulateCustomer([absent], h.events, until);
    expect(keysOf(decided, 'TriggerMatched')).toEqual(['A']);
    expect(ofType(decided, 'TimerCancelled')).toHaveLength(1);
    expect(subjects(decided)).toEqual(['Forgot something?']);
  });

  it(`given a flood of distinct keys, then at most ${MAX_KEYED_RUNS} keyed runs are kept; once runs finish, their keys are forgotten for new ones`, () => {
    const flood = program('abandoned-cart', define(cart({ steps: [{ wait: { duration: '1d' } }, send('Reminder')] })), enable);
    const view = emptyCustomerView();
    const h = new History();
    const at = (min: number) => new Date(Date.parse('2025-03-01T10:00:00Z') + min * 60_000);
    let matched = 0;
    for (let i = 0; i < MAX_KEYED_RUNS + 20; i++) {
      const e = h.track(at(i).toISOString(), 'Cart Updated', { cartId: `cart-${i}` });
      matched += ofType(decideOnView([flood], view, e, at(i)), 'TriggerMatched').length;
    }
    // every run is active (waiting a day): the keys past the limit start none
    expect(matched).toBe(MAX_KEYED_RUNS);
    expect(view.runs.size).toBe(MAX_KEYED_RUNS);
    // an event without the key ends them all (an exit rule), then new keys start again and the finished ones are dropped
    const later = at(200);
    decideOnView([flood], view, h.track(later.toISOString(), 'Unsubscribed'), later);
    for (let i = 0; i < 30; i++) {
      const t = at(300 + i);
      const e = h.track(t.toISOString(), 'Cart Updated', { cartId: `new-${i}` });
      expect(ofType(decideOnView([flood], view, e, t), 'TriggerMatched')).toHaveLength(1);
    }
    expect(view.runs.size).toBe(MAX_KEYED_RUNS);
    expect(view.slots.get('abandoned-cart')!.size).toBe(MAX_KEYED_RUNS);
  });

  it('given a keyed trigger, a backtest counts one run per cart for one customer, as simulateCustomer decides', () => {
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:10:00Z', 'Cart Updated', { cartId: 'B' });
    const backtest = new Backtest({ workspaceId: 'ws', definition: cart(), to: until });
    for (const e of h.events) backtest.add(e);
    const report = backtest.report();
    expect(report.entered).toMatchObject({ runs: 2, customers: 1 });
    expect(report.messages.sent).toEqual({ email: 2 });
  });

  it('validates the key: a property path of the entry event, with a clear error', () => {
    const errors = (key: unknown) => {
      const r = validateTrigger({ ...cart(), key });
      return r.ok ? [] : r.errors.map((e) => `${e.path}: ${e.message}`);
    };
    expect(errors('properties.cartId')).toEqual([]);
    expect(errors('properties.cart.id')).toEqual([]);
    for (const bad of ['cartId', 'properties.', 'properties..x', 'traits.plan', 42, ''])
      expect(errors(bad)).toEqual([
        `key: expected a property path of the entry event, "properties.<name>" (e.g. "properties.cartId": one run per cart), got ${JSON.stringify(bad)}`,
      ]);
  });
});

describe('shadow mode (a version deciding beside the live one, never sending)', () => {
  const v1 = {
    id: 'upsell',
    name: 'Upsell',
    reentry: 'every',
    entry: { event: 'Report Created' },
    steps: [{ wait: { duration: '1d' } }, send('v1: try Pro')],
  };
  const v2 = { ...v1, steps: [{ wait: { duration: '2d' } }, send('v2: Pro is here')] };

  it('given a disabled trigger with a shadow version, when its entry matches, then it decides (marked shadow) and its send is a MessageShadowed, never a MessageScheduled', () => {
    const p = program('upsell', define(v1), shadow(1));
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Report Created');
    const { decided } = simulateCustomer([p], h.events, new Date('2025-03-05T00:00:00Z'));
    expect(decided.map((e) => e.type)).toEqual([
      'TriggerMatched',
      'TriggerRunStepEntered',
      'TimerScheduled',
      'TriggerRunStepEntered',
      'MessageShadowed',
      'TriggerRunExited',
    ]);
    expect(ofType(decided, 'MessageScheduled')).toEqual([]);
    for (const type of ['TriggerMatched', 'TriggerRunStepEntered', 'TriggerRunExited'])
      expect(ofType(decided, type as never).every((e) => e.data.shadow === true)).toBe(true);
    const shadowed = ofType(decided, 'MessageShadowed')[0].data;
    expect(shadowed).toMatchObject({ channel: 'email', triggerId: 'upsell', triggerVersion: 1, step: '1' });
    expect((shadowed.guards as Array<{ guard: string }>).map((g) => g.guard)).toEqual(['consent', 'priority']);
    expect(shadowed.suppressed).toBeUndefined();
    expect(ofType(decided, 'TimerScheduled')[0].data.payload).toMatchObject({ kind: 'step', shadow: true });
  });

  it('given v2 live and v1 in shadow, when the entry matches, then both run, each with its own run id and timer; a shadow timer never advances the live run', () => {
    const p = program('upsell', define(v1), define(v2), enable, shadow(1));
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Report Created');
    // after one day: only the shadow's wait is over
    const day1 = simulateCustomer([p], h.events, new Date('2025-03-02T12:00:00Z')).decided;
    expect(ofType(day1, 'TriggerMatched').map((e) => [e.data.version, e.data.shadow])).toEqual([
      [2, undefined],
      [1, true],
    ]);
    const runIds = ofType(day1, 'TriggerMatched').map((e) => e.data.runId);
    expect(new Set(runIds).size).toBe(2);
    expect(ofType(day1, 'TimerScheduled').map((e) => e.data.timerId)).toHaveLength(2);
    expect(ofType(day1, 'MessageShadowed').map((e) => e.data.runId)).toEqual([runIds[1]]);
    expect(ofType(day1, 'MessageScheduled')).toEqual([]);
    // after two days: the live one sends, once
    const day3 = simulateCustomer([p], h.events, new Date('2025-03-04T00:00:00Z')).decided;
    expect(subjects(day3)).toEqual(['v2: Pro is here']);
    expect(ofType(day3, 'MessageScheduled')[0].data.runId).toBe(runIds[0]);
    expect(ofType(day3, 'MessageShadowed')).toHaveLength(1);
    expect(ofType(day3, 'TriggerRunExited').map((e) => [e.data.version, e.data.reason, e.data.shadow])).toEqual([
      [1, 'completed', true],
      [2, 'completed', undefined],
    ]);
  });

  it('given a frequency cap, then shadow messages do not count against the live run’s cap, and the shadow counts only its own', () => {
    const capped = (subject: string) => ({
      ...v1,
      steps: [send(subject)],
      guards: { frequencyCaps: [{ max: 1, per: '1d', scope: 'trigger' as const }] },
    });
    const p = program('upsell', define(capped('old')), define(capped('new')), enable, shadow(1));
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Report Created');
    h.track('2025-03-01T11:00:00Z', 'Report Created');
    const { decided } = simulateCustomer([p], h.events, new Date('2025-03-01T12:00:00Z'));
    expect(subjects(decided)).toEqual(['new']);
    expect(ofType(decided, 'MessageSuppressed').map((e) => e.data.reason)).toEqual(['frequency-cap']);
    expect(ofType(decided, 'MessageShadowed').map((e) => (e.data.suppressed as { reason: string } | undefined)?.reason)).toEqual([
      undefined,
      'frequency-cap',
    ]);
  });

  it('given a shadow version with set, emit, task and webhook steps, then none of them is executed: only the steps entered are recorded', () => {
    const busy = {
      ...v1,
      steps: [
        { set: { stage: 'active', traits: { upsold: true } } },
        { emit: { event: 'Upsell Offered' } },
        { task: { title: 'Call them' } },
        { webhook: { url: 'https://crm.example.com/x', body: '{}' } },
        { handoff: { team: 'sales' } },
        send('offer'),
      ],
    };
    const p = program('upsell', define(busy), shadow(1));
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Report Created');
    const { decided } = simulateCustomer([p], h.events, new Date('2025-03-02T00:00:00Z'));
    expect(ofType(decided, 'TriggerRunStepEntered').map((e) => e.data.kind)).toEqual(['set', 'emit', 'task', 'webhook', 'handoff', 'send']);
    for (const type of [
      'TraitsUpdated',
      'StageChanged',
      'InteractionRecorded',
      'CsmTaskOpened',
      'MessageScheduled',
      'ConversationAssigned',
    ])
      expect([type, ofType(decided, type as never)]).toEqual([type, []]);
    expect(ofType(decided, 'MessageShadowed')).toHaveLength(1);
  });

  it('given a higher-priority trigger in shadow only, then it never claims the input: the lower-priority live trigger still sends', () => {
    const high = program('high', define({ ...v1, id: 'high', name: 'High', priority: 10, steps: [send('high')] }), shadow(1));
    const low = program('low', define({ ...v1, id: 'low', name: 'Low', steps: [send('low')] }), enable);
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Report Created');
    const { decided } = simulateCustomer([high, low], h.events, new Date('2025-03-02T00:00:00Z'));
    expect(subjects(decided)).toEqual(['low']);
    expect(ofType(decided, 'MessageShadowed').map((e) => e.data.triggerId)).toEqual(['high']);
  });

  it('given a keyed trigger in shadow, then each cart has its shadow run, marked with its key', () => {
    const p = program('abandoned-cart', define(cart()), shadow(1));
    const h = new History();
    h.track('2025-03-01T10:00:00Z', 'Cart Updated', { cartId: 'A' });
    h.track('2025-03-01T10:10:00Z', 'Cart Updated', { cartId: 'B' });
    const { decided } = simulateCustomer([p], h.events, new Date('2025-03-02T00:00:00Z'));
    expect(ofType(decided, 'TriggerMatched').map((e) => [e.data.key, e.data.shadow])).toEqual([
      ['A', true],
      ['B', true],
    ]);
    expect(ofType(decided, 'MessageShadowed')).toHaveLength(2);
    expect(ofType(decided, 'MessageScheduled')).toEqual([]);
  });

  it('given an active shadow run, when the shadow is stopped, then it exits (shadow stopped) on the next input and no new shadow run starts; the live one goes on', () => {
    const view = emptyCustomerView();
    const h = new History();
    const on = program('upsell', define(v1), define(v2), enable, shadow(1));
    const off = program('upsell', define(v1), define(v2), enable, shadow(1), { type: 'StopShadow' });
    const t0 = new Date('2025-03-01T10:00:00Z');
    const first = decideOnView([on], view, h.track(t0.toISOString(), 'Report Created'), t0);
    expect(ofType(first, 'TriggerMatched')).toHaveLength(2);
    const t1 = new Date('2025-03-01T11:00:00Z');
    const next = decideOnView([off], view, h.track(t1.toISOString(), 'Something'), t1);
    expect(ofType(next, 'TriggerRunExited').map((e) => [e.data.reason, e.data.shadow])).toEqual([['shadow stopped', true]]);
    expect(ofType(next, 'TimerCancelled')).toHaveLength(1);
    const t2 = new Date('2025-03-01T12:00:00Z');
    const again = decideOnView([off], view, h.track(t2.toISOString(), 'Report Created'), t2);
    expect(ofType(again, 'TriggerMatched').map((e) => e.data.shadow)).toEqual([undefined]);
  });
});

describe('shadow in the trigger definition decider', () => {
  const doc = { id: 't', name: 'T', entry: { event: 'X' }, steps: [send('hi')] };
  function given(...commands: TriggerCommand[]) {
    let state = initialTriggerState('t');
    const events: JourneyEvent[] = [];
    for (const c of commands)
      for (const e of decideTrigger(c, state, { ...ctx, by: 'http:csm' })) {
        events.push(e);
        state = evolveTrigger(state, e);
      }
    return { state, events };
  }

  it('given versions 1 and 2, when shadow 1 starts, then TriggerShadowStarted; again: nothing; then shadow 2: the first stops, the second starts', () => {
    const { state, events } = given(define(doc), define({ ...doc, name: 'T2' }), shadow(1), shadow(1), shadow(2));
    expect(events.slice(2).map((e) => [e.type, e.data.version, e.data.by])).toEqual([
      ['TriggerShadowStarted', 1, 'http:csm'],
      ['TriggerShadowStopped', 1, 'http:csm'],
      ['TriggerShadowStarted', 2, 'http:csm'],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(state.shadow).toBe(2);
    expect(state.enabled).toBe(false);
  });

  it('when stopped, then TriggerShadowStopped with the version; stopping without a shadow changes nothing', () => {
    const { state, events } = given(define(doc), shadow(1), { type: 'StopShadow' }, { type: 'StopShadow' });
    expect(events.map((e) => e.type)).toEqual(['TriggerDefined', 'TriggerShadowStarted', 'TriggerShadowStopped']);
    expect(state.shadow).toBeUndefined();
  });

  it('refuses a version that does not exist, and a trigger that is not defined', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as TriggerCommandError).code, (e as Error).message];
      }
      return undefined;
    };
    expect(codeOf(() => given(define(doc), shadow(3)))).toEqual(['unknown_version', 'version: trigger t has versions 1 to 1, not 3']);
    expect(codeOf(() => given(shadow(1)))?.[0]).toBe('not_found');
    expect(codeOf(() => given({ type: 'StopShadow' }))?.[0]).toBe('not_found');
  });
});
