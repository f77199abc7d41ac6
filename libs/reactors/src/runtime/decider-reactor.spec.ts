import {
  customerStreamId,
  decideTrigger,
  deterministicId,
  evolveTrigger,
  initialTriggerState,
  triggerStreamId,
  type JourneyEvent,
  type RecordedEvent,
  type TriggerCommand,
  type TriggerDefinition,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { FakeClock } from '../testing/fake-clock';
import type { Reactor, ReactorContext } from './reactor';
import { StageReactor } from '../stage/stage-reactor';
import { TriggerReactor } from '../triggers/trigger-reactor';

/** Triggers that exercise every kind of effect: sends under a cap, waits, fed-back traits / stage / custom events, tasks. */
const TRIGGERS: TriggerDefinition[] = [
  {
    id: 'welcome',
    name: 'Welcome',
    reentry: 'every',
    entry: { event: 'Signed Up' },
    steps: [{ send: { channel: 'email', body: 'hi' } }, { set: { traits: { welcomed: true } } }, { emit: { event: 'Welcomed' } }],
    guards: { frequencyCaps: [{ max: 2, per: '1d', scope: 'customer' }] },
  },
  {
    id: 'nudge',
    name: 'Nudge',
    priority: 1,
    reentry: 'every',
    entry: { event: 'Welcomed' },
    steps: [
      { wait: { duration: '1h' } },
      { branch: { if: { traits: { welcomed: true } }, then: [{ send: { channel: 'email', body: 'nudge' } }] } },
      { set: { stage: 'active' } },
    ],
    exit: [{ when: { event: 'Upgraded' }, reason: 'converted' }],
  },
  {
    id: 'silent',
    name: 'Silent',
    reentry: { oncePer: '2h' },
    entry: { absent: { event: 'Used', for: '1h', after: { event: 'Signed Up' } } },
    steps: [{ send: { channel: 'inbox', body: 'miss you' } }],
  },
  {
    id: 'upgraded',
    name: 'Upgraded',
    reentry: 'every',
    entry: { event: 'Upgraded' },
    steps: [{ task: { title: 'call them', closeOn: { event: 'Used' } } }],
  },
];
const NAMES = ['Signed Up', 'Used', 'Used', 'Upgraded', 'Activated', 'Subscription Cancelled'];
const CUSTOMERS = ['a', 'b', 'c', 'd', 'e'];

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t ^= t + Math.imul(t ^ (t >>> 7), 61 | t);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** One engine: a store, both reactors (with `cacheSize`), their checkpoints, and what the timer scheduler would do. */
class World {
  readonly store: EventStore = new SqliteEventStore(openSqliteDatabase(':memory:'));
  readonly clock = new FakeClock('2025-03-01T10:00:00.000Z');
  readonly checkpoints = new Map<string, bigint>();
  reads = 0;
  reactors: Reactor[] = [];
  private readonly ctx: ReactorContext;

  constructor(private readonly cacheSize: number) {
    const store = this.store;
    this.ctx = {
      store: Object.assign(Object.create(store) as EventStore, { readStream: (id: string) => (this.reads++, store.readStream(id)) }),
      now: () => this.clock.now(),
      owns: (_w, c) => c !== 'e', // another process has customer e
    };
    this.restart();
  }

  restart(): void {
    this.reactors = [
      new TriggerReactor({ cacheSize: this.cacheSize }),
      new StageReactor({ ...stagePolicy }, { cacheSize: this.cacheSize }),
    ];
  }

  /** What the runner does for one batch; `crash` fails before the append or before the checkpoint (a replay follows). */
  async run(index: number, batchSize: number, crash?: 'before-append' | 'before-checkpoint'): Promise<void> {
    const reactor = this.reactors[index];
    const after = this.checkpoints.get(reactor.name) ?? 0n;
    const events = await this.store.readAll({ after, maxCount: batchSize });
    if (events.length === 0) return;
    const relevant = events.filter((e) => reactor.filter!.streamPrefixes!.some((p) => e.streamId.startsWith(p)));
    const appends = relevant.length ? await reactor.react(relevant, this.ctx) : [];
    if (crash === 'before-append') return;
    if (appends.length) await this.store.appendMany(appends);
    if (crash === 'before-checkpoint') return;
    this.checkpoints.set(reactor.name, events[events.length - 1].position);
  }

  async append(event: JourneyEvent): Promise<void> {
    await this.store.appendToStream(customerStreamId('w', event.metadata.customerId), [event]);
  }

  /** The TimerScheduler: a TimerFired for every due timer neither cancelled nor fired. */
  async fireDue(): Promise<void> {
    const all = await this.store.readAll();
    const done = new Set(all.filter((e) => e.type === 'TimerCancelled' || e.type === 'TimerFired').map((e) => String(e.data.timerId)));
    for (const t of all.filter(
      (e) =>
        e.type === 'TimerScheduled' && !done.has(String(e.data.timerId)) && Date.parse(String(e.data.dueAt)) <= this.clock.now().getTime(),
    )) {
      const { timerId, purpose, payload } = t.data as { timerId: string; purpose: string; payload?: Record<string, unknown> };
      const at = this.clock.now().toISOString();
      await this.append({
        id: deterministicId('timer-fired', timerId),
        type: 'TimerFired',
        data: { timerId, purpose, ...(payload ? { payload } : {}) },
        metadata: { ...t.metadata, occurredAt: at, recordedAt: at, causationId: t.id, source: 'timer' },
      });
    }
  }

  async log(): Promise<Array<Pick<RecordedEvent, 'id' | 'type' | 'streamId' | 'data'> & { position: string }>> {
    return (await this.store.readAll()).map((e) => ({
      id: e.id,
      type: e.type,
      streamId: e.streamId,
      position: String(e.position),
      data: e.data,
    }));
  }
}

const stagePolicy = {
  inactivityDays: 1 / 6,
  renewalNoticeDays: 1,
  activationEvents: ['Activated'],
  churnEvents: ['Subscription Cancelled'],
};

/** Drives several worlds through the same randomized history: ingestion, batches of both reactors, crashes, restarts, timers. */
async function play(seed: number, worlds: World[]): Promise<void> {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  let n = 0;
  const each = (f: (w: World) => Promise<void> | void) => Promise.all(worlds.map(async (w) => f(w)));
  await each(async (w) => {
    for (const definition of TRIGGERS) {
      let state = initialTriggerState(definition.id);
      for (const command of [{ type: 'DefineTrigger', definition }, { type: 'EnableTrigger' }] as TriggerCommand[]) {
        const decided = decideTrigger(command, state, { workspaceId: 'w', now: w.clock.now() });
        await w.store.appendToStream(triggerStreamId('w', definition.id), decided);
        state = decided.reduce(evolveTrigger, state);
      }
    }
  });
  for (let step = 0; step < 160; step++) {
    const r = rnd();
    if (r < 0.4) {
      const customer = pick(CUSTOMERS);
      const at = worlds[0].clock.now().toISOString();
      const kind = rnd();
      const event: JourneyEvent = {
        id: deterministicId('test-event', seed, n++),
        ...(kind < 0.15
          ? { type: 'TraitsUpdated', data: { traits: { welcomed: rnd() < 0.5, plan: pick(['free', 'pro']) } } }
          : kind < 0.25
            ? { type: 'CustomerIdentified', data: { userId: customer, traits: { email: `${customer}@x.io` } } }
            : { type: 'InteractionRecorded', data: { event: pick(NAMES), properties: {} } }),
        metadata: { workspaceId: 'w', customerId: customer, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
      };
      await each((w) => w.append(event));
    } else if (r < 0.8) {
      const index = rnd() < 0.5 ? 0 : 1;
      const size = 1 + Math.floor(rnd() * 8);
      const c = rnd();
      const crash = c < 0.08 ? 'before-append' : c < 0.16 ? 'before-checkpoint' : undefined;
      await each((w) => w.run(index, size, crash));
    } else if (r < 0.85) {
      await each((w) => w.restart());
    } else {
      const minutes = Math.floor(rnd() * 90);
      await each(async (w) => {
        w.clock.set(new Date(w.clock.now().getTime() + minutes * 60_000).toISOString());
        await w.fireDue();
      });
    }
  }
  // drain
  for (let i = 0; i < 50; i++) await each(async (w) => (await w.run(0, 1000), await w.run(1, 1000)));
}

describe('per-customer state caches of the reactors', () => {
  it.each([1, 2, 3, 4])(
    'decide exactly as without a cache over a randomized history with crashes, replays and restarts (seed %i)',
    async (seed) => {
      const [uncached, tiny, cached] = [new World(0), new World(2), new World(10_000)];
      await play(seed, [uncached, tiny, cached]);
      const log = await uncached.log();
      // the history is rich enough to mean something: sends, fed-back events, tasks, stage changes, timers
      const types = new Set(log.map((e) => e.type));
      for (const t of ['MessageScheduled', 'TraitsUpdated', 'CsmTaskOpened', 'StageChanged', 'TimerFired', 'TriggerRunExited'])
        expect(types).toContain(t);
      expect(await tiny.log()).toEqual(log);
      expect(await cached.log()).toEqual(log);
    },
  );

  it('reads a customer stream once, then keeps the state in memory as the customer goes on', async () => {
    const world = new World(10_000);
    const at = world.clock.now().toISOString();
    const ping = (i: number): JourneyEvent => ({
      id: deterministicId('ping', i),
      type: 'InteractionRecorded',
      data: { event: i % 2 ? 'Signed Up' : 'Used', properties: {} },
      metadata: { workspaceId: 'w', customerId: 'a', occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
    });
    await play(99, [world]);
    const before = world.reads;
    for (let i = 0; i < 20; i++) {
      await world.append(ping(i));
      await world.run(0, 1000);
      await world.run(1, 1000);
    }
    expect(world.reads - before).toBeLessThanOrEqual(2); // at most once per reactor, if the customer was not cached
    expect(
      (await world.log()).filter((e) => e.type === 'MessageScheduled' && e.streamId === customerStreamId('w', 'a')).length,
    ).toBeGreaterThan(0);
  });
});
