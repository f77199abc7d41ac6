/**
 * Property: on the same history, a backtest of a trigger decides exactly what the live trigger reactor decides. For
 * every trigger of triggers/library and many generated histories (seeded, so a failure names its seed and replays),
 * the live side runs the TriggerReactor over an in-memory SQLite log as the reactor runner and the TimerScheduler
 * would (batches of events arriving at once, each timer fired at its due time, or right after the batch that scheduled
 * it already overdue), and the backtest replays the customer events of that log. Decisions are compared without ids.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  customerStreamId,
  decideTrigger,
  deterministicId,
  evolveTrigger,
  initialTriggerState,
  parseTrigger,
  triggerStreamId,
  TRIGGER_SOURCE,
  type JourneyEvent,
  type RecordedEvent,
  type TriggerCommand,
  type TriggerDefinition,
  type TypedEvent,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { TRIGGER_VALIDATION } from '@journey/messaging';
import { TriggerReactor, runBacktest } from '@journey/reactors';
import { FakeClock } from '../../libs/reactors/src/testing/fake-clock';

const dir = join(__dirname, '../../triggers/library');
const library = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml')) // not the test fixtures beside them
  .map((f) => {
    const parsed = parseTrigger(readFileSync(join(dir, f), 'utf8'), TRIGGER_VALIDATION); // as deploying checks it
    if (!parsed.ok) throw new Error(`${f} is not valid`);
    return parsed.definition;
  });

const WS = 'w';
const START = Date.parse('2025-03-01T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SEEDS = 25;

/** mulberry32: a small seeded generator. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)];
  return { next, pick };
}

interface Batch {
  at: number;
  events: JourneyEvent[];
}

const TRACKS = [
  'Activated',
  'Logged In',
  'Report Created',
  'Dashboard Created',
  'Project Created',
  'Subscription Renewed',
  'Something Else',
];
const STAGES = ['onboarding', 'active', 'at-risk', 'renewal', 'churned'] as const;
/** Customer replies with their VADER scores (as the engine stores them). */
const REPLIES: Array<[string, number]> = [
  ['Thanks, that fixed it!', 0.4926],
  ['The export keeps failing and we lost data. Unacceptable.', -0.8225],
  ['How do I export my invoices?', 0],
  ['Found it, thank you!', 0.4199],
  ['I am very disappointed with the service', -0.5256],
];

/** A history of two customers: batches of 1 to 3 events arriving at once, some of them late (event time before arrival). */
function history(seed: number): { batches: Batch[]; end: number } {
  const r = random(seed);
  const batches: Batch[] = [];
  let at = START + DAY;
  let n = 0;
  const stage: Record<string, string | null> = { a: null, b: null };
  const conversation: Record<string, { id: string; channel: 'inbox' | 'email'; resolved: boolean } | undefined> = {};
  const iso = (ms: number) => new Date(ms).toISOString();
  // half the histories start with a habit (a daily login for a month), so that usage can drop
  if (r.next() < 0.5)
    for (let day = 0; day < 30; day++, at += DAY) {
      const metadata = { workspaceId: WS, customerId: 'a', occurredAt: iso(at), recordedAt: iso(at), source: 'http', schemaVersion: 1 };
      batches.push({
        at,
        events: [
          {
            id: deterministicId('generated', seed, n++),
            type: 'InteractionRecorded',
            data: { event: 'Logged In', properties: {} },
            metadata,
          },
        ],
      });
    }
  for (let i = 0, count = 5 + Math.floor(r.next() * 25); i < count; i++) {
    at += r.pick([60_000, HOUR, 5 * HOUR, 11 * HOUR, DAY, 3 * DAY, 8 * DAY, 15 * DAY]);
    const events: JourneyEvent[] = [];
    for (let j = 0, size = 1 + Math.floor(r.next() * 3); j < size; j++) {
      const customerId = r.pick(['a', 'b']);
      const occurred = at - (r.next() < 0.75 ? 0 : r.pick([HOUR, 20 * HOUR, 2 * DAY, 10 * DAY]));
      // one event in four is of a conversation (drawn apart, so the others keep their shares)
      const kind = r.next() < 0.25 ? 1 : r.next();
      let type: string;
      let data: Record<string, unknown>;
      if (kind < 0.2) {
        type = 'CustomerIdentified';
        const traits: Record<string, unknown> = { name: r.pick(['Ada', 'Bob']) };
        if (r.next() < 0.5) traits.timezone = r.pick(['Europe/London', 'America/New_York', 'Asia/Tokyo']);
        if (r.next() < 0.5) traits.renewal_date = new Date(occurred + r.pick([20, 60, 95, 120, 200]) * DAY).toISOString().slice(0, 10);
        if (r.next() < 0.1) traits.unsubscribed = true;
        data = { userId: customerId, traits, ...(r.next() < 0.3 ? { context: { timezone: 'Asia/Tokyo' } } : {}) };
      } else if (kind < 0.3) {
        type = 'StageChanged';
        const to = r.pick(STAGES);
        data = { from: stage[customerId], to, reason: 'test' };
        stage[customerId] = to;
      } else if (kind >= 1) {
        // the conversation side: the customer writes (starting or reopening a conversation), a person takes it or resolves it
        const c = conversation[customerId];
        const what = r.next();
        const meta = { workspaceId: WS, customerId, occurredAt: iso(occurred), recordedAt: iso(at), source: 'http', schemaVersion: 1 };
        if (what < 0.6 || !c || c.resolved) {
          let current = c;
          if (!current || (current.resolved && r.next() < 0.5)) {
            current = conversation[customerId] = {
              id: `${customerId}-conv-${n}`,
              channel: r.pick(['inbox', 'email'] as const),
              resolved: false,
            };
            events.push({
              id: deterministicId('generated', seed, n++),
              type: 'ConversationStarted',
              data: { conversationId: current.id, channel: current.channel },
              metadata: meta,
            });
          } else if (current.resolved) {
            current.resolved = false;
            events.push({
              id: deterministicId('generated', seed, n++),
              type: 'ConversationReopened',
              data: { conversationId: current.id, reason: 'customer-replied' },
              metadata: meta,
            });
          }
          const [body, sentiment] = r.pick(REPLIES);
          type = 'CustomerReplied';
          data = { conversationId: current.id, messageId: `m${n}`, channel: current.channel, body, sentiment };
        } else if (what < 0.8) {
          type = 'ConversationAssigned';
          data = { conversationId: c.id, team: 'support', assignee: 'ann', priority: 'normal', by: 'ann', reason: 'manual' };
        } else {
          c.resolved = true;
          type = 'ConversationResolved';
          data = { conversationId: c.id, by: 'ann' };
        }
      } else if (kind < 0.35) {
        type = 'TraitsUpdated';
        data = {
          traits:
            r.next() < 0.5
              ? { renewal_date: new Date(occurred + r.pick([30, 89, 150]) * DAY).toISOString().slice(0, 10) }
              : { features_used: ['dashboards'] },
        };
      } else {
        type = 'InteractionRecorded';
        data = { event: r.pick(TRACKS), properties: {} };
      }
      events.push({
        id: deterministicId('generated', seed, n++),
        type,
        data,
        metadata: { workspaceId: WS, customerId, occurredAt: iso(occurred), recordedAt: iso(at), source: 'http', schemaVersion: 1 },
      });
    }
    batches.push({ at, events });
  }
  return { batches, end: at + 100 * DAY };
}

/** A decided event without its ids: what it decided, and when. */
function decision(e: JourneyEvent): string {
  const d = e.data as Record<string, unknown>;
  const keep = [
    'version',
    'step',
    'kind',
    'variant',
    'channel',
    'notBefore',
    'template',
    'reason',
    'dueAt',
    'title',
    'priority',
    'resolution',
    'from',
    'to',
    'traits',
    'event',
    'body',
    'tags',
    'team',
    'automated',
    'request',
    'key',
  ];
  const payload = (d.payload as Record<string, unknown> | undefined)?.kind;
  return `${e.metadata.occurredAt} ${e.type} ${JSON.stringify(Object.fromEntries(keep.filter((k) => d[k] !== undefined).map((k) => [k, d[k]])))}${payload ? ` ${payload}` : ''}`;
}

const byCustomer = (out: Map<string, string[]>, customerId: string, e: JourneyEvent, describe = decision) =>
  out.set(customerId, [...(out.get(customerId) ?? []), describe(e)]);
const sorted = (m: Map<string, string[]>) =>
  Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)).map(([c, ds]) => [c, [...ds].sort()]));

/** The live reactor over the log, driven as the reactor runner and the TimerScheduler drive it; returns the store too. */
async function live(definition: TriggerDefinition, batches: Batch[], end: number, mode: 'enabled' | 'shadow' = 'enabled') {
  const store = new SqliteEventStore(openSqliteDatabase(':memory:'));
  const clock = new FakeClock(new Date(START));
  const ctx = { store, now: () => clock.now(), owns: () => true };
  let state = initialTriggerState(definition.id);
  const run: TriggerCommand = mode === 'enabled' ? { type: 'EnableTrigger' } : { type: 'StartShadow', version: 1 };
  for (const command of [{ type: 'DefineTrigger', definition } as const, run]) {
    const events = decideTrigger(command, state, { workspaceId: WS, now: clock.now() });
    await store.appendToStream(triggerStreamId(WS, definition.id), events);
    state = events.reduce(evolveTrigger, state);
  }
  const reactor = new TriggerReactor();
  const timers = new Map<string, { scheduled: RecordedEvent; at: number }>();
  let after = 0n;
  const drain = async () => {
    for (;;) {
      const events = await store.readAll({ after, filter: reactor.filter });
      if (events.length === 0) return;
      after = events[events.length - 1].position;
      for (const e of events as Array<RecordedEvent & TypedEvent>) {
        if (e.type === 'TimerScheduled')
          timers.set(e.data.timerId, { scheduled: e, at: Math.max(Date.parse(e.data.dueAt), Date.parse(e.metadata.recordedAt)) });
        if (e.type === 'TimerCancelled' || e.type === 'TimerFired') timers.delete(e.data.timerId);
      }
      const appends = await reactor.react(events, ctx);
      if (appends.length) await store.appendMany(appends);
    }
  };
  /** What the TimerScheduler does: each timer due before `before`, in due order, fired at its due time. */
  const fireBefore = async (before: number) => {
    for (;;) {
      const next = [...timers.values()].sort((x, y) => x.at - y.at)[0];
      if (!next || next.at >= before) return;
      timers.delete(String(next.scheduled.data.timerId));
      clock.set(new Date(next.at));
      const { timerId, purpose, payload, dueAt } = next.scheduled.data as {
        timerId: string;
        purpose: string;
        payload?: Record<string, unknown>;
        dueAt: string;
      };
      const fired: JourneyEvent = {
        id: deterministicId('timer-fired', timerId),
        type: 'TimerFired',
        data: { timerId, purpose, ...(payload ? { payload } : {}) },
        metadata: {
          ...next.scheduled.metadata,
          occurredAt: dueAt,
          recordedAt: new Date(next.at).toISOString(),
          causationId: next.scheduled.id,
          source: 'timer',
        },
      };
      await store.appendToStream(next.scheduled.streamId, [fired]);
      await drain();
    }
  };
  for (const batch of batches) {
    await fireBefore(batch.at);
    clock.set(new Date(batch.at));
    await store.appendMany(
      batch.events.map((e) => ({ streamId: customerStreamId(WS, e.metadata.customerId), events: [e], expectedRevision: 'any' as const })),
    );
    await drain();
  }
  await fireBefore(end);
  const decided = new Map<string, string[]>();
  for (const e of await store.readAll({ filter: { streamPrefixes: [customerStreamId(WS, '')] } }))
    if (e.metadata.source === TRIGGER_SOURCE) byCustomer(decided, e.metadata.customerId, e);
  return { store, decided };
}

/** Not in the library: a run that waits for an input its own step appended (the CsmTaskOpened of its task). */
const waitsForItsTask: TriggerDefinition = {
  id: 'waits-for-its-task',
  name: 'Waits for its task',
  reentry: 'every',
  entry: { event: 'Logged In' },
  steps: [
    { task: { title: 'Say hello' } },
    {
      wait: {
        until: { event: 'CsmTaskOpened' },
        timeout: '1d',
        onEvent: [{ send: { channel: 'inbox', body: 'opened' } }],
        onTimeout: [{ send: { channel: 'inbox', body: 'timed out' } }],
      },
    },
  ],
};

/** Not in the library: a run that answers in its conversation after a wait, a person possibly taking it meanwhile. */
const answersLater: TriggerDefinition = {
  id: 'answers-later',
  name: 'Answers later',
  reentry: 'every',
  entry: { reply: { channel: ['inbox', 'email'] } },
  steps: [
    { wait: { duration: '2h' } },
    // a template: rendered as the run decides, live and in the backtest alike (a customer without the trait: template-error)
    {
      reply: {
        body: 'Still there, {{ customer.id }}? Renewal: {{ customer.traits.renewal_date }}. Using {{ customer.traits.features_used | join: ", " | default: "nothing yet" }}.',
      },
    },
    { webhook: { url: 'https://crm.example.com/notes', headers: { Authorization: 'Bearer {{ secrets.crm }}' }, body: '{}' } },
    { branch: { if: { reply: { sentiment: { lt: 0 } } }, then: [{ handoff: { team: 'support' } }], else: [{ resolve: {} }] } },
  ],
};

describe('backtest and live decide the same on the same history (every library trigger, generated histories)', () => {
  const kinds = new Set<string>();
  afterAll(() => {
    // the conversation triggers did meet every case: answered, held by a person, handed off, resolved, webhook
    for (const k of [
      'AgentReplied',
      'held-by-person',
      'template-error',
      'rendered',
      'ConversationAssigned',
      'ConversationResolved',
      'ConversationTagged',
    ])
      expect([k, kinds.has(k)]).toEqual([k, true]);
  });
  for (const definition of [...library, waitsForItsTask, answersLater]) {
    it(`${definition.id}`, async () => {
      let decisions = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const { batches, end } = history(seed);
        const { store, decided } = await live(definition, batches, end);
        const backtested = new Map<string, string[]>();
        await runBacktest(store, {
          workspaceId: WS,
          definition,
          to: new Date(end),
          observe: (c, _input, ds) => ds.forEach((e) => byCustomer(backtested, c, e)),
        });
        await store.close();
        expect({ seed, decisions: sorted(backtested) }).toEqual({ seed, decisions: sorted(decided) });
        decisions += [...decided.values()].reduce((n, ds) => n + ds.length, 0);
        for (const ds of decided.values())
          for (const d of ds) {
            kinds.add(d.includes('"reason":"held-by-person"') ? 'held-by-person' : d.split(' ')[1]);
            if (d.includes('"reason":"template-error"')) kinds.add('template-error');
            if (/"body":"Still there, [ab]\? Renewal: \d{4}-\d\d-\d\d\./.test(d)) kinds.add('rendered');
          }
      }
      expect(decisions).toBeGreaterThan(0); // the histories do reach the trigger
    });
  }
});

/** The same histories with carts: some tracks become `Cart Updated` / `Checkout Completed` with a cartId (a checkout at times without). */
function cartHistory(seed: number): { batches: Batch[]; end: number } {
  const generated = history(seed);
  const r = random(seed * 7919);
  const carts = ['A', 'B', 'C', 'D'];
  for (const batch of generated.batches)
    for (const e of batch.events) {
      if (e.type !== 'InteractionRecorded') continue;
      const name = (e.data as { event: string }).event;
      if (name === 'Something Else' || name === 'Report Created' || name === 'Project Created')
        e.data = { event: 'Cart Updated', properties: { cartId: r.pick(carts) } };
      else if (name === 'Subscription Renewed' || name === 'Dashboard Created')
        e.data = { event: 'Checkout Completed', properties: r.next() < 0.2 ? {} : { cartId: r.pick(carts) } };
    }
  return generated;
}

const keyed: TriggerDefinition[] = [
  {
    id: 'keyed-reminder',
    name: 'Keyed reminder',
    key: 'properties.cartId',
    reentry: 'every',
    entry: { event: 'Cart Updated' },
    exit: [{ when: { event: 'Checkout Completed' }, reason: 'checked out' }],
    guards: { frequencyCaps: [{ max: 2, per: '1d', scope: 'trigger' }], quietHours: { start: '21:00', end: '08:00' } },
    steps: [
      { wait: { duration: '1d' } },
      { send: { channel: 'inbox', body: 'Your cart {{ event.cartId }}' } },
      { wait: { duration: '3d' } },
    ],
  },
  {
    id: 'keyed-absent',
    name: 'Keyed absence',
    key: 'properties.cartId',
    reentry: { oncePer: '5d' },
    entry: { absent: { event: 'Checkout Completed', for: '2d', after: { event: 'Cart Updated' } } },
    steps: [
      { send: { channel: 'inbox', body: 'Forgot something?' } },
      { task: { title: 'Call about the cart', closeOn: { event: 'Checkout Completed' } } },
    ],
  },
  {
    id: 'keyed-wait-until',
    name: 'Keyed wait until',
    key: 'properties.cartId',
    entry: { all: [{ event: 'Cart Updated' }, { count: { event: 'Cart Updated', within: '30d', gte: 2 } }] },
    steps: [
      {
        wait: {
          until: { event: 'Checkout Completed' },
          timeout: '3d',
          onEvent: [{ send: { channel: 'inbox', body: 'Thanks' } }],
          onTimeout: [{ send: { channel: 'inbox', body: 'Still there?' } }],
        },
      },
    ],
  },
];

describe('backtest and live decide the same for keyed triggers (one run per cart, generated histories)', () => {
  for (const definition of keyed) {
    it(`${definition.id}`, async () => {
      let runs = 0;
      const keys = new Set<string>();
      for (let seed = 1; seed <= SEEDS; seed++) {
        const { batches, end } = cartHistory(seed);
        const { store, decided } = await live(definition, batches, end);
        for (const e of await store.readAll({ filter: { streamPrefixes: [customerStreamId(WS, '')] } }))
          if (e.type === 'TriggerMatched') {
            runs++;
            keys.add(`${e.metadata.customerId}/${String(e.data.key)}`);
          }
        const backtested = new Map<string, string[]>();
        await runBacktest(store, {
          workspaceId: WS,
          definition,
          to: new Date(end),
          observe: (c, _input, ds) => ds.forEach((e) => byCustomer(backtested, c, e)),
        });
        await store.close();
        expect({ seed, decisions: sorted(backtested) }).toEqual({ seed, decisions: sorted(decided) });
      }
      // the histories reach several carts of the same customers
      expect(runs).toBeGreaterThan(0);
      expect(keys.size).toBeGreaterThan(2);
    });
  }
});

/** A decision with a message as what shadow mode records of it: channel, deferral or suppression, never the message itself. */
function asShadowed(e: JourneyEvent): string {
  const d = e.data as Record<string, unknown>;
  const suppressed = e.type === 'MessageSuppressed' ? String(d.reason) : (d.suppressed as { reason: string } | undefined)?.reason;
  if (e.type === 'MessageScheduled' || e.type === 'MessageSuppressed' || e.type === 'MessageShadowed')
    return `${e.metadata.occurredAt} message ${String(d.channel)} ${suppressed ? `suppressed ${suppressed}` : String(d.notBefore ?? '')}`;
  return decision(e);
}

describe('shadow mode decides what the version decides live (triggers that only wait and send, generated histories)', () => {
  const sendsOnly = [
    ...library.filter((d) => ['onboarding-activation-nudge', 'onboarding-welcome', 'usage-inactivity'].includes(d.id)),
    ...keyed.filter((d) => d.id !== 'keyed-absent'),
  ];
  for (const definition of sendsOnly) {
    it(`${definition.id}`, async () => {
      let shadowed = 0;
      for (let seed = 1; seed <= SEEDS; seed++) {
        const { batches, end } = definition.key ? cartHistory(seed) : history(seed);
        const decisions = async (mode: 'enabled' | 'shadow') => {
          const { store } = await live(definition, batches, end, mode);
          const out = new Map<string, string[]>();
          for (const e of await store.readAll({ filter: { streamPrefixes: [customerStreamId(WS, '')] } }))
            // a late event does not revise a shadowed message (no late-event suppression in shadow)
            if (e.metadata.source === TRIGGER_SOURCE && e.data.reason !== 'late-event')
              byCustomer(out, e.metadata.customerId, e, asShadowed);
          const messages = await store.readAll({
            filter: { streamPrefixes: [customerStreamId(WS, '')], eventTypes: ['MessageScheduled'] },
          });
          await store.close();
          return { out, scheduled: messages.length };
        };
        const [enabled, shadow] = [await decisions('enabled'), await decisions('shadow')];
        expect(shadow.scheduled).toBe(0);
        const shadowSide = sorted(shadow.out);
        expect({ seed, decisions: shadowSide }).toEqual({ seed, decisions: sorted(enabled.out) });
        shadowed += Object.values(shadowSide)
          .flat()
          .filter((d) => d.includes(' message ')).length;
      }
      expect(shadowed).toBeGreaterThan(0);
    });
  }
});
