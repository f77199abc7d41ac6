import {
  customerStreamId,
  decideTrigger,
  deterministicId,
  evolveTrigger,
  initialTriggerState,
  triggerStreamId,
  type TriggerDefinition,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { customerEvent } from '../testing/events';
import { FakeClock } from '../testing/fake-clock';
import type { ReactorContext } from '../runtime/reactor';
import { TriggerReactor } from './trigger-reactor';

const HOUR = 3_600_000;

/** Reads the last hour of pings; a cap of 2 per hour (messages scheduled and suppressed), a task closed by pongs. */
const hourly: TriggerDefinition = {
  id: 'hourly',
  name: 'Hourly',
  reentry: 'every',
  entry: { all: [{ event: 'Ping' }, { count: { event: 'Ping', within: '1h', gte: 2 } }] },
  steps: [
    { send: { channel: 'email', body: 'busy hour' } },
    { task: { title: 'Look', closeOn: { count: { event: 'Pong', within: '2h', gte: 2 } } } },
  ],
  guards: { frequencyCaps: [{ max: 2, per: '1h', scope: 'customer' }] },
};
/** Reads a week of pings: deployed later, it must see what the views of `hourly` no longer keep. */
const weekly: TriggerDefinition = {
  id: 'weekly',
  name: 'Weekly',
  reentry: 'every',
  entry: { all: [{ event: 'Ping' }, { count: { event: 'Ping', within: '7d', gte: 90 } }] },
  steps: [{ send: { channel: 'inbox', body: 'loyal' } }],
};

/** At most one message an hour: what a rebuilt view must know of the messages decided earlier in the batch. */
const capped: TriggerDefinition = {
  id: 'capped',
  name: 'Capped',
  reentry: 'every',
  entry: { event: 'Ping' },
  steps: [{ send: { channel: 'sms', body: 'ping' } }],
  guards: { frequencyCaps: [{ max: 1, per: '1h', scope: 'trigger' }] },
};

/** A store, a clock and the reactor, driven as the runner does (one batch per `step`). */
class World {
  readonly store: EventStore = new SqliteEventStore(openSqliteDatabase(':memory:'));
  readonly clock = new FakeClock('2025-03-01T00:00:00.000Z');
  readonly reactor: TriggerReactor;
  private readonly ctx: ReactorContext = { store: this.store, now: () => this.clock.now(), owns: () => true };
  private after = 0n;
  private n = 0;

  constructor(options: { keepHistory?: boolean; cacheSize?: number } = {}) {
    this.reactor = new TriggerReactor(options);
  }

  /** One batch of everything new (the reactor's own effects come back in the next one). */
  async step(): Promise<void> {
    const events = await this.store.readAll({ after: this.after, filter: this.reactor.filter, maxCount: 100_000 });
    if (events.length === 0) return;
    this.after = events[events.length - 1].position;
    const appends = await this.reactor.react(events, this.ctx);
    if (appends.length) await this.store.appendMany(appends);
  }

  async track(customerId: string, name: string): Promise<void> {
    const event = {
      ...customerEvent(customerId, 'InteractionRecorded', { event: name, properties: {} }, this.clock.now().toISOString()),
      id: deterministicId('test', this.n++),
    };
    await this.store.appendToStream(customerStreamId('w', customerId), [event]);
  }

  async admin(definition: TriggerDefinition, ...commands: Array<'DefineTrigger' | 'EnableTrigger' | 'DisableTrigger'>): Promise<void> {
    const stream = triggerStreamId('w', definition.id);
    let state = (await this.store.readStream(stream)).reduce(evolveTrigger, initialTriggerState(definition.id));
    for (const type of commands) {
      const decided = decideTrigger(type === 'DefineTrigger' ? { type, definition } : { type }, state, {
        workspaceId: 'w',
        now: this.clock.now(),
      });
      await this.store.appendToStream(stream, decided);
      state = decided.reduce(evolveTrigger, state);
    }
  }

  /** What the reactor appended, in order. */
  async decided(): Promise<Array<{ id: string; type: string; streamId: string; data: unknown }>> {
    return (await this.store.readAll({ maxCount: 1_000_000 }))
      .filter((e) => e.metadata.source === 'reactor:triggers')
      .map((e) => ({ id: e.id, type: e.type, streamId: e.streamId, data: e.data }));
  }
}

/** The same history in every world: `events` pings and pongs for customers a, b, c, a few minutes apart, a batch every few events. */
async function play(worlds: World[], events: number, from = 0): Promise<void> {
  for (let i = from; i < from + events; i++) {
    for (const w of worlds) {
      w.clock.advance(((i * 7) % 11) * 60_000 + 30_000);
      await w.track(['a', 'b', 'c'][i % 3], i % 4 === 3 ? 'Pong' : 'Ping');
      if (i % 5 === 4) await w.step();
    }
  }
  for (const w of worlds) await w.step();
}

describe('TriggerReactor keeps per customer only the history its triggers read', () => {
  it('given thousands of events, then it decides exactly as with full histories, and the records kept per customer stay bounded', async () => {
    const [pruned, full] = [new World(), new World({ keepHistory: true })];
    for (const w of [pruned, full]) await w.admin(hourly, 'DefineTrigger', 'EnableTrigger');
    await play([pruned, full], 600);
    const early = pruned.reactor.kept();
    await play([pruned, full], 2400, 600);
    const late = pruned.reactor.kept();

    const decided = await full.decided();
    expect(await pruned.decided()).toEqual(decided);
    for (const type of ['MessageScheduled', 'MessageSuppressed', 'CsmTaskOpened', 'CsmTaskClosed'])
      expect(decided.some((e) => e.type === type)).toBe(true);
    // full views hold every record and message; pruned ones as many after 3,000 events as after 600
    expect(full.reactor.kept()).toMatchObject({ customers: 3 });
    expect(full.reactor.kept().records).toBeGreaterThan(3000);
    expect(late.customers).toBe(3);
    expect(late.records / late.customers).toBeLessThanOrEqual(64 * 2);
    expect(late.records).toBeLessThanOrEqual(Math.max(early.records, 3 * 64) * 1.5);
    expect(late.messages / late.customers).toBeLessThanOrEqual(64);
    expect(late.timers).toBe(0);
  });

  it.each([
    ['in a later batch (views kept between batches are dropped)', false],
    ['in the batch that touched the customer (the view is rebuilt with the effects not stored yet)', true],
  ])(
    'given a trigger deployed and enabled %s that reads further back than the views kept, then it decides as with full histories',
    async (_name, sameBatch) => {
      const [pruned, full] = [new World(), new World({ keepHistory: true })];
      for (const w of [pruned, full]) for (const t of [hourly, capped]) await w.admin(t, 'DefineTrigger', 'EnableTrigger');
      await play([pruned, full], 400); // ~1.5 days, the views of hourly keep about the last hour
      expect(pruned.reactor.kept().records).toBeLessThan(3 * 64 * 2);
      for (const w of [pruned, full]) {
        w.clock.advance(2 * HOUR);
        await w.track('a', 'Ping');
        if (!sameBatch) await w.step();
        await w.admin(weekly, 'DefineTrigger', 'EnableTrigger');
        w.clock.advance(60_000);
        await w.track('a', 'Ping');
        await w.track('b', 'Ping');
        await w.step();
      }
      const decided = await full.decided();
      const sends = (triggerId: string) =>
        decided.filter(
          (e) => ['MessageScheduled', 'MessageSuppressed'].includes(e.type) && (e.data as { triggerId: string }).triggerId === triggerId,
        );
      expect(sends('weekly').map((e) => [e.type, e.streamId])).toEqual([
        ['MessageScheduled', customerStreamId('w', 'a')],
        ['MessageScheduled', customerStreamId('w', 'b')],
      ]);
      // a's two pings: the first one's message (decided in the batch, not stored when the view was rebuilt) caps the second
      expect(
        sends('capped')
          .filter((e) => e.streamId === customerStreamId('w', 'a'))
          .slice(-2)
          .map((e) => e.type),
      ).toEqual(['MessageScheduled', 'MessageSuppressed']);
      expect(await pruned.decided()).toEqual(decided);
    },
  );
});
