import { customerStreamId, identityStreamId, type RecordedEvent } from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, markTransient, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { ReactorRunner } from '../runtime/reactor-runner';
import type { ReactorContext } from '../runtime/reactor';
import { appendToCustomer, customerEvent } from '../testing/events';
import { eventually } from '../testing/eventually';
import { IdentityDirectory } from './directory';
import { IdentityMergeReactor } from './merge-reactor';

const NOW = new Date('2026-03-02T10:00:00.000Z');
const at = (minute: number) => new Date(Date.parse('2026-03-01T00:00:00.000Z') + minute * 60_000).toISOString();

describe('the identity merge reactor', () => {
  let store: SqliteEventStore;
  let directory: IdentityDirectory;
  let handled: bigint;

  beforeEach(() => {
    store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    directory = new IdentityDirectory(store);
    handled = 0n;
  });
  afterEach(async () => store.close());

  const ctx = (s: EventStore = store): ReactorContext => ({ store: s, now: () => NOW, owns: () => true });
  const track = (customerId: string, event: string, minute: number) =>
    appendToCustomer(store, customerEvent(customerId, 'InteractionRecorded', { event, properties: { n: minute } }, at(minute)));
  const stream = (customerId: string) => store.readStream(customerStreamId('w', customerId));
  const identityEvents = async (id: string) => (await store.readStream(identityStreamId('w', id))).map((e) => e.type);
  /** Hands `reactor` the log after what it was last handed, `batch` events at a time (as the runner does), `turns` times at most. */
  async function run(reactor: IdentityMergeReactor, turns = 100, batch = 1): Promise<void> {
    for (let i = 0; i < turns; i++) {
      const events: RecordedEvent[] = await store.readAll({ after: handled, maxCount: batch });
      if (events.length === 0) return;
      await reactor.react(events, ctx());
      handled = events[events.length - 1].position;
    }
  }
  const merge = (previousId: string, userId: string) =>
    directory.merge('w', previousId, userId, { occurredAt: NOW.toISOString(), recordedAt: NOW.toISOString() });

  it('copies a long history in batches, in order, after an IdentitiesMerged, and closes the merged stream', async () => {
    for (let i = 0; i < 10; i++) await track('anon', i % 2 ? 'Feature Used' : 'Page Opened', i);
    await track('u1', 'Signed Up', 20);
    expect(await merge('anon', 'u1')).toMatchObject({ kind: 'merge', previousId: 'anon', userId: 'u1' });
    const steps: string[] = [];
    await run(new IdentityMergeReactor(directory, { batchSize: 3, onStep: (s) => steps.push(s) }));
    expect(steps).toEqual(['progress', 'progress', 'progress', 'close']);
    const user = await stream('u1');
    expect(user.map((e) => e.type)).toEqual(['InteractionRecorded', 'IdentitiesMerged', ...Array(10).fill('InteractionRecorded')]);
    expect(user.slice(2).map((e) => e.data.properties)).toEqual([...Array(10).keys()].map((n) => ({ n })));
    expect(user.slice(2).every((e) => e.metadata.mergedFrom === 'anon')).toBe(true);
    const anon = await stream('anon');
    expect(anon.at(-1)).toMatchObject({ type: 'CustomerMergedInto', data: { userId: 'u1' }, revision: 10n });
    expect(await identityEvents('anon')).toEqual([
      'IdentityMergeStarted',
      'IdentityMergeProgressed',
      'IdentityMergeProgressed',
      'IdentityMergeProgressed',
      'IdentityMergeCompleted',
    ]);
    expect(await identityEvents('u1')).toEqual(['IdentityAliasAdded']);
  });

  it('resumes after a crash mid-merge (a new process, the batch redelivered) with nothing copied twice and nothing lost', async () => {
    for (let i = 0; i < 10; i++) await track('anon', 'Feature Used', i);
    await merge('anon', 'u1');
    const first = new IdentityMergeReactor(directory, { batchSize: 4 });
    await run(first, 12); // up to the claim and the first progress: copies of 0..3 are stored
    expect((await stream('u1')).length).toBe(5);
    // the crash: the checkpoint had not moved past the claim; a new reactor (empty memory) is handed it again
    handled = 10n;
    await run(new IdentityMergeReactor(directory, { batchSize: 4 }));
    const user = await stream('u1');
    expect(user.map((e) => e.type)).toEqual(['IdentitiesMerged', ...Array(10).fill('InteractionRecorded')]);
    expect(new Set(user.map((e) => e.metadata.causationId)).size).toBe(11);
    expect((await stream('anon')).filter((e) => e.type === 'CustomerMergedInto')).toHaveLength(1);
    expect(await identityEvents('anon')).toEqual([
      'IdentityMergeStarted',
      'IdentityMergeProgressed',
      'IdentityMergeProgressed',
      'IdentityMergeCompleted',
    ]);
    // and the whole log handed again changes nothing
    const before = await store.headPosition();
    handled = 0n;
    await run(new IdentityMergeReactor(directory, { batchSize: 4 }), 100, 50);
    expect(await store.headPosition()).toBe(before);
  });

  it('copies what lands on the merged stream during the copy, and forwards to the user what lands after the close', async () => {
    for (let i = 0; i < 4; i++) await track('anon', 'Feature Used', i);
    await merge('anon', 'u1');
    const reactor = new IdentityMergeReactor(directory, { batchSize: 2 });
    await run(reactor, 6); // the four events, the target marker, the claim: the first batch is copied
    await track('anon', 'Late During Copy', 5); // another process still routed it to the merged id
    await run(reactor);
    expect((await stream('anon')).at(-1)?.type).toBe('CustomerMergedInto');
    await track('anon', 'Late After Close', 6);
    await run(reactor);
    const user = await stream('u1');
    expect(user.map((e) => [e.data.event, e.metadata.mergedFrom, e.metadata.routedFrom])).toEqual([
      [undefined, undefined, undefined],
      ['Feature Used', 'anon', undefined],
      ['Feature Used', 'anon', undefined],
      ['Feature Used', 'anon', undefined],
      ['Feature Used', 'anon', undefined],
      ['Late During Copy', 'anon', undefined],
      ['Late After Close', undefined, 'anon'],
    ]);
    // a new process (its closures not in memory) forwards a later one too, once
    handled = 0n;
    await track('anon', 'Later Still', 7);
    await run(new IdentityMergeReactor(directory, { batchSize: 2 }), 100, 50);
    expect((await stream('u1')).filter((e) => e.metadata.routedFrom === 'anon').map((e) => e.data.event)).toEqual([
      'Late After Close',
      'Later Still',
    ]);
  });

  it('claims the merges of calls that reached the log without a claim (Kafka ingestion): an alias, an identify', async () => {
    await track('k-anon', 'Feature Used', 0);
    await track('k-anon2', 'Feature Used', 1);
    await appendToCustomer(store, customerEvent('k-user', 'IdentitiesMerged', { previousId: 'k-anon', userId: 'k-user' }, at(2)));
    await appendToCustomer(
      store,
      customerEvent('k-user', 'CustomerIdentified', { userId: 'k-user', anonymousId: 'k-anon2', traits: {} }, at(3)),
    );
    await appendToCustomer(
      store,
      customerEvent('k-user', 'CustomerIdentified', { userId: 'k-user', anonymousId: 'never-seen', traits: {} }, at(4)),
    );
    await run(new IdentityMergeReactor(directory));
    const user = await stream('k-user');
    expect(user.filter((e) => e.metadata.mergedFrom).map((e) => e.metadata.mergedFrom)).toEqual(['k-anon', 'k-anon2']);
    expect(user.filter((e) => e.type === 'IdentitiesMerged').map((e) => e.data.previousId)).toEqual(['k-anon', 'k-anon2']);
    expect(await identityEvents('never-seen')).toEqual([]);
    expect(await identityEvents('k-user')).toEqual(['IdentityAliasAdded', 'IdentityAliasAdded']);
  });

  it('forgets every id of a customer when one of them is forgotten, once', async () => {
    await track('anon', 'Feature Used', 0);
    await track('anon2', 'Feature Used', 1);
    await merge('anon', 'u1');
    await merge('anon2', 'anon'); // into the customer anon was merged into
    const reactor = new IdentityMergeReactor(directory);
    await run(reactor);
    await appendToCustomer(store, customerEvent('u1', 'CustomerForgotten', { reason: 'GDPR request' }, at(30)));
    await run(reactor);
    for (const id of ['anon', 'anon2'])
      expect((await stream(id)).filter((e) => e.type === 'CustomerForgotten')).toMatchObject([
        { data: { reason: 'GDPR request' }, metadata: { source: 'identity' } },
      ]);
    expect((await stream('u1')).filter((e) => e.type === 'CustomerForgotten')).toHaveLength(1);
  });
});

describe('the identity merge reactor on its runner', () => {
  it('retries a turn that failed between its copies and its progress: the merge completes once; a new process forwards what comes later', async () => {
    const db = openSqliteDatabase(':memory:');
    const store = new SqliteEventStore(db);
    const checkpoints = new SqliteCheckpointStore(db);
    let crashes = 0;
    // the process "dies" after its copies are stored, before the first progress: the turn fails and is done again
    const crashing = new Proxy(store, {
      get(target, name, receiver) {
        if (name !== 'appendToStream') return Reflect.get(target, name, receiver);
        return async (
          streamId: string,
          events: Parameters<EventStore['appendToStream']>[1],
          options?: Parameters<EventStore['appendToStream']>[2],
        ) => {
          if (streamId.startsWith('identity-') && events[0]?.type === 'IdentityMergeProgressed' && crashes++ === 0)
            throw markTransient(new Error('killed mid-merge'));
          return target.appendToStream(streamId, events, options);
        };
      },
    });
    for (let i = 0; i < 25; i++)
      await appendToCustomer(store, customerEvent('anon', 'InteractionRecorded', { event: 'Feature Used', properties: { i } }, at(i)));
    const directory = new IdentityDirectory(store);
    const options = { store: crashing, checkpoints, retry: { minMs: 5, maxMs: 20 } };
    const first = new ReactorRunner(new IdentityMergeReactor(directory, { batchSize: 10 }), options);
    await first.start();
    await directory.merge('w', 'anon', 'u1', { occurredAt: NOW.toISOString(), recordedAt: NOW.toISOString() });
    await first.waitFor(await store.headPosition());
    await first.stop();
    expect(crashes).toBeGreaterThan(1);
    // a new process, from the checkpoint, with more history arriving under the merged id meanwhile
    await appendToCustomer(store, customerEvent('anon', 'InteractionRecorded', { event: 'Late', properties: {} }, at(30)));
    const second = new ReactorRunner(new IdentityMergeReactor(new IdentityDirectory(store), { batchSize: 10 }), options);
    await second.start();
    await eventually(async () => expect((await store.readStream(customerStreamId('w', 'u1'))).length).toBe(27));
    await second.waitFor(await store.headPosition());
    await second.stop();
    const user = await store.readStream(customerStreamId('w', 'u1'));
    expect(user.map((e) => e.data.event ?? e.type)).toEqual(['IdentitiesMerged', ...Array(25).fill('Feature Used'), 'Late']);
    expect(new Set(user.map((e) => e.id)).size).toBe(27);
    await store.close();
  });
});

describe('the identity directory', () => {
  it('lets one of two merges of the same id win, and the other is decided against it', async () => {
    const store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    const a = new IdentityDirectory(store);
    const b = new IdentityDirectory(store); // another process: its own cache
    const at = { occurredAt: NOW.toISOString(), recordedAt: NOW.toISOString() };
    expect(await b.role('w', 'anon')).toEqual({ kind: 'none' }); // b believes anon is not merged
    const [first, second] = await Promise.all([a.merge('w', 'anon', 'u1', at), b.merge('w', 'anon', 'u2', at)]);
    expect([first.kind, second.kind].sort()).toEqual(['merge', 'refused']);
    expect(await a.merge('w', 'anon', first.kind === 'merge' ? 'u1' : 'u2', at)).toMatchObject({ kind: 'noop' });
    await store.close();
  });
});
