import { randomUUID } from 'node:crypto';
import { customerStreamId, type JourneyEvent } from '@journey/domain';
import {
  SqliteCheckpointStore,
  SqliteEventStore,
  listDeadLetters,
  openSqliteDatabase,
  requestDeadLetterRetry,
  type EventStore,
} from '@journey/event-store';
import { eventually } from '../../reactors/src/testing/eventually';
import { InboxChannel } from './channel';
import { Dispatcher } from './dispatcher';
import { inboxFromStream } from './inbox';

const WS = 'w';
const FAST = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 };
const FAILURES = { minMs: 5, maxMs: 20, poisonAttempts: 3 };

function event(type: string, customerId: string, data: Record<string, unknown>): JourneyEvent {
  const at = new Date().toISOString();
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { workspaceId: WS, customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
  };
}

describe('Dispatcher failures (FailurePolicy)', () => {
  const db = openSqliteDatabase(':memory:');
  const store = new SqliteEventStore(db);
  const checkpoints = new SqliteCheckpointStore(db);
  const running: Dispatcher[] = [];
  const schedule = async (customer: string) => {
    const messageId = randomUUID();
    const stream = customerStreamId(WS, customer);
    await store.appendToStream(stream, [
      event('CustomerIdentified', customer, { userId: customer, traits: { name: customer } }),
      event('MessageScheduled', customer, {
        messageId,
        channel: 'inbox',
        template: { subject: 'Hi', body: 'Hello {{ customer.traits.name }}' },
      }),
    ]);
    return messageId;
  };
  const inbox = async (customer: string) => inboxFromStream(await store.readStream(customerStreamId(WS, customer))).map((m) => m.body);
  const start = async (wrapped: EventStore, options: Partial<ConstructorParameters<typeof Dispatcher>[0]> = {}) => {
    const d = new Dispatcher({
      store: wrapped,
      checkpoints,
      channels: [new InboxChannel()],
      retry: FAST,
      failures: FAILURES,
      name: `dispatcher-${randomUUID()}`,
      ...options,
    });
    running.push(d);
    await d.start();
    return d;
  };
  afterEach(async () => {
    await Promise.all(running.splice(0).map((d) => d.stop()));
  });

  it("quarantines a message whose customer's events it cannot read, delivers the others, and delivers it on retry once fixed", async () => {
    let broken = true;
    const picky = Object.create(store) as EventStore;
    picky.readStream = (streamId, options) =>
      broken && streamId === customerStreamId(WS, 'bad')
        ? Promise.reject(new TypeError("Cannot read properties of null (reading 'traits')"))
        : store.readStream(streamId, options);
    const quarantined: string[] = [];
    await schedule('a');
    await schedule('bad');
    const d = await start(picky, { failures: { ...FAILURES, onQuarantined: (s) => quarantined.push(s) } });
    await schedule('b');
    await eventually(async () => expect(await listDeadLetters(store, WS)).toHaveLength(1));
    const [letter] = await listDeadLetters(store, WS);
    expect(letter).toMatchObject({
      status: 'quarantined',
      customerId: 'bad',
      eventType: 'MessageScheduled',
      reason: 'TypeError',
      attempts: 3,
    });
    expect(quarantined).toHaveLength(1);
    await eventually(async () => expect([await inbox('a'), await inbox('b')]).toEqual([['Hello a'], ['Hello b']]));
    await d.whenIdle();
    expect(d.pendingCount).toBe(0); // it no longer holds the checkpoint back
    expect(d.lastError).toBeUndefined();

    broken = false;
    await requestDeadLetterRetry(store, WS, letter.id, 'test');
    await eventually(async () => expect((await listDeadLetters(store, WS))[0].status).toBe('resolved'));
    expect(await inbox('bad')).toEqual(['Hello bad']);
  });

  it('retries while the store is out (transient), more times than the poison attempts, and delivers; lastError set meanwhile, cleared after', async () => {
    let failuresLeft = 6;
    const seen: Array<string | undefined> = [];
    const flaky = Object.create(store) as EventStore;
    flaky.readStream = (streamId, options) => {
      if (streamId !== customerStreamId(WS, 't')) return store.readStream(streamId, options); // the earlier tests' messages
      seen.push(d?.lastError?.message);
      return failuresLeft-- > 0
        ? Promise.reject(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))
        : store.readStream(streamId, options);
    };
    // eslint-disable-next-line prefer-const -- flaky.readStream reads d while start() runs, before it is assigned
    let d: Dispatcher | undefined;
    d = await start(flaky);
    await schedule('t');
    await eventually(async () => expect(await inbox('t')).toEqual(['Hello t']));
    expect(seen.slice(1, 6)).toEqual(Array(5).fill('read ECONNRESET'));
    expect(d.lastError).toBeUndefined();
    expect((await listDeadLetters(store, WS)).filter((l) => l.customerId === 't')).toEqual([]);
  });

  it('resubscribes when its subscription fails, and delivers', async () => {
    const dying = Object.create(store) as EventStore;
    let subscriptions = 0;
    dying.subscribeToAll = (options, handler) => {
      if (subscriptions++ === 0)
        return { done: Promise.reject(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' })), stop: async () => undefined };
      return store.subscribeToAll(options, handler);
    };
    const d = await start(dying);
    await schedule('s');
    await eventually(async () => expect(await inbox('s')).toEqual(['Hello s']));
    expect(subscriptions).toBe(2);
    expect(d.lastError).toBeUndefined();
  });
});
