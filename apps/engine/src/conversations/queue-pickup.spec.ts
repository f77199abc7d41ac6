import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase, type CheckpointStore, type EventStore } from '@journey/event-store';
import { appendToCustomer, customerEvent } from '../../../../libs/reactors/src/testing/events';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { FakeClock } from '../../../../libs/reactors/src/testing/fake-clock';
import { ConversationsService } from './conversations.service';
import { OrganisationService } from './organisation.service';
import { QUEUE_PICKUP, QueuePickup, workQueue, type QueuedItem, type QueuedWork } from './queue-pickup';

/**
 * An in-memory QueuedWork: the team's queue as the customers' streams say it now (what the work read model says once
 * it has caught up), oldest due first; `frozen` answers a fixed list instead (a model that lags behind).
 */
class StreamQueue implements QueuedWork {
  calls = 0;
  frozen?: QueuedItem[];
  position?: () => Promise<bigint | undefined>;
  readonly dueAt = new Map<string, string>();

  constructor(
    private readonly conversations: ConversationsService,
    private readonly customers: string[],
  ) {}

  async queued(workspaceId: string, teamId: string): Promise<QueuedItem[]> {
    this.calls++;
    if (this.frozen) return this.frozen;
    const items: QueuedItem[] = [];
    for (const customerId of this.customers) {
      const { conversations, customer } = await this.conversations.load(workspaceId, customerId);
      for (const c of conversations.values())
        if (c.status !== 'resolved' && c.team === teamId && c.assignee === undefined)
          items.push({
            kind: 'conversation',
            customerId,
            itemId: c.conversationId,
            priority: c.priority,
            dueAt: this.dueAt.get(c.conversationId) ?? '9999',
          });
      for (const t of customer.openTasks)
        if (t.owner === teamId) items.push({ kind: 'task', customerId, itemId: t.taskId, priority: t.priority, dueAt: t.dueAt ?? '9999' });
    }
    return items.sort((a, b) => (a.dueAt < b.dueAt ? -1 : a.dueAt > b.dueAt ? 1 : a.itemId < b.itemId ? -1 : 1));
  }
}

describe('queue pickup', () => {
  let store: EventStore;
  let checkpoints: CheckpointStore;
  let clock: FakeClock;
  let conversations: ConversationsService;
  let organisations: OrganisationService;
  let queue: StreamQueue;
  let load: Map<string, number>;
  let pickup: QueuePickup | undefined;

  const start = async (tickMs = 0) => {
    pickup = new QueuePickup({ store, checkpoints, clock, organisations, conversations, work: queue, load: async () => load, tickMs });
    await pickup.start();
  };
  const stop = async () => {
    await pickup?.stop();
    pickup = undefined;
  };
  /** Until the pickup has handled every teams event appended so far. */
  const settle = async () => {
    const teams = await store.readAll({ filter: { streamPrefixes: ['teams-'] } });
    if (teams.length > 0) await pickup!.processor.waitFor(teams[teams.length - 1].position);
  };
  const organise = (command: Parameters<OrganisationService['decide']>[1]) => organisations.decide('w', command, { by: 'admin' });
  const away = (memberId: string, until?: string) => organise({ type: 'SetAvailability', memberId, away: true, ...(until && { until }) });
  const back = (memberId: string) => organise({ type: 'SetAvailability', memberId, away: false });
  /** A customer writes in and a trigger's handoff queues the conversation for the team (nobody could take it). */
  const handoff = async (customer: string, id: string) => {
    await conversations.receive('w', customer, { channel: 'inbox', body: 'I cannot log in', conversationId: id }, 'inbox');
    await conversations.act(
      'w',
      customer,
      id,
      { type: 'Assign', team: 'support', priority: 'high', reason: 'queued', triggerId: 't', runId: 'r' },
      { source: 'reactor' },
    );
  };
  const stream = (customer: string) => store.readStream(customerStreamId('w', customer));
  const assignments = async (customer: string) =>
    (await stream(customer))
      .filter((e): e is RecordedEvent<any> => e.type === 'ConversationAssigned' || e.type === 'CsmTaskAssigned')
      .map((e) => [e.data.conversationId ?? e.data.taskId, e.data.assignee, e.data.reason]);

  beforeEach(async () => {
    const db = openSqliteDatabase(':memory:');
    store = new SqliteEventStore(db);
    checkpoints = new SqliteCheckpointStore(db);
    clock = new FakeClock('2025-03-12T10:00:00.000Z');
    conversations = new ConversationsService(store);
    organisations = new OrganisationService(store);
    queue = new StreamQueue(conversations, ['ada', 'bea']);
    load = new Map();
    await organise({ type: 'DefineTeam', team: { teamId: 'support', ownerTrait: 'csm_owner' } });
    for (const memberId of ['ana', 'bob', 'cid']) {
      await organise({ type: 'DefineMember', member: { memberId, teams: ['support'] } });
      await away(memberId);
    }
  });
  afterEach(stop);

  it('leaves the queue alone while everyone of the team is away', async () => {
    await handoff('ada', 'c1');
    await start();
    await settle();
    expect(await assignments('ada')).toEqual([['c1', undefined, 'queued']]);
    expect(queue.calls).toBe(0); // nobody available: the queue is not even read
  });

  it('a member back from away gets the queued conversations, oldest due first', async () => {
    await handoff('ada', 'c1');
    await handoff('bea', 'c2');
    queue.dueAt.set('c2', '2025-03-12T11:00:00.000Z').set('c1', '2025-03-12T12:00:00.000Z');
    await start();
    await settle();
    await back('ana');
    await settle();
    expect(await assignments('ada')).toEqual([
      ['c1', undefined, 'queued'],
      ['c1', 'ana', 'least-loaded'],
    ]);
    expect(await assignments('bea')).toEqual([
      ['c2', undefined, 'queued'],
      ['c2', 'ana', 'least-loaded'],
    ]);
    const picked = (await stream('bea')).at(-1)!;
    expect(picked.metadata.source).toBe(QUEUE_PICKUP);
    expect(picked.data).not.toHaveProperty('by'); // nobody did it: automation
    // c2 (due first) was assigned first
    const [a, b] = [(await stream('ada')).at(-1)!, picked];
    expect(b.position).toBeLessThan(a.position);
  });

  it('several members back: each item to the least loaded of them (counting its own assignments), the owner first', async () => {
    await handoff('ada', 'c1');
    await handoff('ada', 'c2');
    await handoff('ada', 'c3');
    await handoff('bea', 'c4');
    await appendToCustomer(store, customerEvent('bea', 'CustomerIdentified', { userId: 'bea', traits: { csm_owner: 'cid' } }));
    load = new Map([
      ['ana', 1],
      ['cid', 9],
    ]);
    await back('ana');
    await back('bob');
    await back('cid');
    await start(); // the returns come as one batch
    await settle();
    expect((await assignments('ada')).filter((a) => a[2] !== 'queued')).toEqual([
      ['c1', 'bob', 'least-loaded'], // ana 1, bob 0
      ['c2', 'ana', 'least-loaded'], // ana 1, bob 1: by id
      ['c3', 'bob', 'least-loaded'], // ana 2, bob 1
    ]);
    expect((await assignments('bea')).filter((a) => a[2] !== 'queued')).toEqual([['c4', 'cid', 'owner']]);
  });

  it('a member joining the team picks up its queue', async () => {
    await handoff('ada', 'c1');
    await start();
    await settle();
    await organise({ type: 'DefineMember', member: { memberId: 'dan', teams: [] } });
    await settle();
    expect((await assignments('ada')).filter((a) => a[2] !== 'queued')).toEqual([]);
    await organise({ type: 'DefineMember', member: { memberId: 'dan', teams: ['support'] } });
    await settle();
    expect((await assignments('ada')).filter((a) => a[2] !== 'queued')).toEqual([['c1', 'dan', 'least-loaded']]);
  });

  it('waits for the work model to reach the event before it reads the queue', async () => {
    await handoff('ada', 'c1');
    let at = 0n;
    queue.position = async () => at;
    await start();
    await settle();
    await back('ana');
    await eventually(() => expect(queue.calls).toBe(0)); // the model is behind: not read yet
    expect((await assignments('ada')).at(-1)).toEqual(['c1', undefined, 'queued']);
    at = await store.headPosition(); // the projection caught up
    await settle();
    expect((await assignments('ada')).at(-1)).toEqual(['c1', 'ana', 'least-loaded']);
  });

  it('a task opened for the team is assigned once a member is back', async () => {
    await appendToCustomer(
      store,
      customerEvent('ada', 'CsmTaskOpened', { taskId: 't1', title: 'Call back', owner: 'support', priority: 'high', triggerId: 'x' }),
    );
    await start();
    await settle();
    await back('bob');
    await settle();
    expect(await assignments('ada')).toEqual([['t1', 'bob', 'least-loaded']]);
    const { customer } = await conversations.load('w', 'ada');
    expect(customer.openTasks[0].owner).toBe('bob');
  });

  it('leaves alone an item assigned by hand meanwhile (the model had not seen it yet)', async () => {
    await handoff('ada', 'c1');
    await handoff('bea', 'c2');
    queue.frozen = await queue.queued('w', 'support'); // the model lags: both listed as queued
    await conversations.act('w', 'ada', 'c1', { type: 'Assign', assignee: 'cid', by: 'cid', reason: 'manual' }, { source: 'http' });
    await start();
    await settle();
    await back('ana');
    await settle();
    expect(await assignments('ada')).toEqual([
      ['c1', undefined, 'queued'],
      ['c1', 'cid', 'manual'],
    ]);
    expect((await assignments('bea')).at(-1)).toEqual(['c2', 'ana', 'least-loaded']);
  });

  it('a restart replaying the teams events assigns nothing twice', async () => {
    await handoff('ada', 'c1');
    await appendToCustomer(
      store,
      customerEvent('bea', 'CsmTaskOpened', { taskId: 't1', title: 'Call', owner: 'support', priority: 'normal' }),
    );
    queue.frozen = await queue.queued('w', 'support');
    await start();
    await settle();
    await back('ana');
    await settle();
    expect((await assignments('ada')).at(-1)).toEqual(['c1', 'ana', 'least-loaded']);
    expect((await assignments('bea')).at(-1)).toEqual(['t1', 'ana', 'least-loaded']);
    const before = [(await stream('ada')).length, (await stream('bea')).length];
    await stop();
    await checkpoints.set(QUEUE_PICKUP, 0n); // a crash before the checkpoint was kept: the whole teams history again
    await start();
    await settle();
    await back('bob'); // and someone else back: still listed (frozen), already held
    await settle();
    expect([(await stream('ada')).length, (await stream('bea')).length]).toEqual(before);
  });

  it('a member away until a time that passed takes the queue at the next tick, and is not checked again', async () => {
    await away('bob', '2025-03-12T10:05:00.000Z');
    await handoff('ada', 'c1');
    await handoff('bea', 'c2');
    await start(60_000);
    await settle();
    const nextTick = async (ms: number) => {
      clock.advance(ms); // runs the tick that is due
      await eventually(() => expect(clock.scheduled).toBe(1)); // done: the next one is armed
    };
    await nextTick(60_000); // 10:01: bob's `until` has not passed
    expect(await assignments('ada')).toEqual([['c1', undefined, 'queued']]);
    expect(queue.calls).toBe(0);
    await nextTick(5 * 60_000); // 10:06: it has
    expect((await assignments('bea')).at(-1)).toEqual(['c2', 'bob', 'least-loaded']);
    expect((await assignments('ada')).at(-1)).toEqual(['c1', 'bob', 'least-loaded']);
    const calls = queue.calls;
    await handoff('ada', 'c3'); // queued while bob is available (the assignment reactor's job): no tick looks again
    await nextTick(60_000);
    expect(await pickup!.tick()).toBe(0);
    expect(queue.calls).toBe(calls);
  });

  it('at start, picks up the teams of members whose `until` passed while it was down', async () => {
    await away('bob', '2025-03-12T10:05:00.000Z');
    await handoff('ada', 'c1');
    await start(60_000);
    await settle();
    await stop();
    clock.set('2025-03-12T11:00:00.000Z');
    await start(60_000); // no teams event after its checkpoint: the first tick finds bob
    clock.advance(0);
    await eventually(async () => expect((await assignments('ada')).at(-1)).toEqual(['c1', 'bob', 'least-loaded']));
  });
});

describe('workQueue (the work read model)', () => {
  const doc = (id: string, fields: Record<string, unknown>) => ({ id, pos: 1n, doc: fields });

  it("lists the team's unheld items (conversations and tasks), due first, and waits for the work projection", async () => {
    const where: Array<Record<string, unknown>> = [];
    const readModels = {
      find: async (_collection: string, w: Record<string, unknown>) => {
        where.push(w);
        return [
          doc('a', { kind: 'conversation', customerId: 'ada', itemId: 'c1', priority: 'high', dueAt: '2025-03-12T12:00:00.000Z' }),
          doc('b', { kind: 'task', customerId: 'bea', itemId: 't1', priority: 'low', dueAt: '2025-03-12T11:00:00.000Z' }),
        ];
      },
      checkpoint: async () => 7n,
    };
    const work = workQueue(readModels as never, [{ name: 'work', collections: [{ name: 'work', indexes: [] }] } as never]);
    expect(await work.queued('w', 'support')).toEqual([
      { kind: 'task', customerId: 'bea', itemId: 't1', priority: 'low', dueAt: '2025-03-12T11:00:00.000Z' },
      { kind: 'conversation', customerId: 'ada', itemId: 'c1', priority: 'high', dueAt: '2025-03-12T12:00:00.000Z' },
    ]);
    expect(where).toEqual([{ workspaceId: 'w', team: 'support', assignee: '', open: 1 }]);
    expect(await work.position!()).toBe(7n);
    expect(workQueue(readModels as never, []).position).toBeUndefined();
  });

  it('answers nothing while the collection does not exist', async () => {
    const readModels = {
      find: async () => {
        throw new Error('no such table: rm_work');
      },
    };
    expect(await workQueue(readModels as never, []).queued('w', 'support')).toEqual([]);
  });
});
