import { assertValidTrigger, triggerStreamId } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { appendToCustomer, customerEvent } from '../testing/events';
import { runBacktest } from './run-backtest';

const welcome = assertValidTrigger({
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'Signed Up' },
  steps: [{ wait: { duration: '1d' } }, { send: { channel: 'email', subject: 'Welcome', body: 'hi' } }],
});

describe('runBacktest', () => {
  let db: ReturnType<typeof openSqliteDatabase>;
  let store: SqliteEventStore;
  beforeEach(() => {
    db = openSqliteDatabase(':memory:');
    store = new SqliteEventStore(db);
  });
  afterEach(async () => {
    await store.close();
    db.close();
  });

  it('replays the workspace’s customer streams page by page, reporting progress, without appending anything', async () => {
    const at = (day: number) => new Date(Date.UTC(2025, 2, day, 9)).toISOString();
    for (let i = 0; i < 5; i++) {
      await appendToCustomer(store, customerEvent(`c${i}`, 'CustomerIdentified', { userId: `c${i}`, traits: {} }, at(1 + i)));
      if (i % 2 === 0)
        await appendToCustomer(store, customerEvent(`c${i}`, 'InteractionRecorded', { event: 'Signed Up', properties: {} }, at(2 + i)));
    }
    await appendToCustomer(store, customerEvent('x', 'InteractionRecorded', { event: 'Signed Up', properties: {} }, at(3), 'other'));
    // a trigger stream is not customer history
    await store.appendToStream(triggerStreamId('w', 'welcome'), [
      customerEvent('', 'TriggerDefined', { triggerId: 'welcome', version: 1, definition: welcome }, at(2)),
    ]);
    const head = await store.headPosition();

    const progress: Array<[number, number]> = [];
    const report = await runBacktest(store, {
      workspaceId: 'w',
      definition: welcome,
      to: new Date('2025-04-01T00:00:00Z'),
      pageSize: 3,
      onProgress: (p, h) => progress.push([p, h]),
    });

    expect(report).toMatchObject({ eventsReplayed: 8, customers: 5, entered: { runs: 3, customers: 3 }, exits: { completed: 3 } });
    expect(report.steps.map((s) => [s.step, s.kind, s.runs])).toEqual([
      ['0', 'wait', 3],
      ['1', 'send', 3],
    ]);
    expect(report.messages.sent).toEqual({ email: 3 });
    expect(progress.length).toBeGreaterThanOrEqual(3);
    expect(progress[progress.length - 1]).toEqual([Number(head), Number(head)]);
    expect(await store.headPosition()).toBe(head);
  });

  it('renders reply bodies as live: answered customers by channel, the others suppressed as template-error, per reply step', async () => {
    const answer = assertValidTrigger({
      id: 'answer',
      name: 'Answer',
      reentry: 'every',
      entry: { reply: {} },
      steps: [{ reply: { body: 'Hi {{ customer.traits.name }}' } }],
    });
    const at = (minute: number) => new Date(Date.UTC(2025, 2, 3, 9, minute)).toISOString();
    for (const [c, traits] of [
      ['ada', { name: 'Ada' }],
      ['bob', {}],
    ] as const) {
      await appendToCustomer(store, customerEvent(c, 'CustomerIdentified', { userId: c, traits }, at(0)));
      await appendToCustomer(store, customerEvent(c, 'ConversationStarted', { conversationId: `k-${c}`, channel: 'email' }, at(1)));
      await appendToCustomer(
        store,
        customerEvent(c, 'CustomerReplied', { conversationId: `k-${c}`, messageId: `m-${c}`, channel: 'email', body: 'hello' }, at(2)),
      );
    }
    const bodies: unknown[] = [];
    const report = await runBacktest(store, {
      workspaceId: 'w',
      definition: answer,
      to: new Date('2025-04-01T00:00:00Z'),
      observe: (_c, _input, decided) => decided.forEach((e) => e.type === 'AgentReplied' && bodies.push(e.data.body)),
    });
    expect(report.steps).toMatchObject([{ step: '0', kind: 'reply', runs: 2, sent: { email: 1 }, suppressed: { 'template-error': 1 } }]);
    expect(bodies).toEqual(['Hi Ada']);
  });

  it('stops at `to`: a wait still running then is reported active, its send not made', async () => {
    await appendToCustomer(
      store,
      customerEvent('c1', 'InteractionRecorded', { event: 'Signed Up', properties: {} }, '2025-03-01T09:00:00Z'),
    );
    const report = await runBacktest(store, { workspaceId: 'w', definition: welcome, to: new Date('2025-03-01T20:00:00Z') });
    expect(report).toMatchObject({ entered: { runs: 1 }, activeAtEnd: 1, messages: { sent: {} } });
  });
});
