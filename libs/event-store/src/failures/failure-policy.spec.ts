import { customerStreamId, deadLetterStreamId, foldDeadLetters, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { randomUUID } from 'node:crypto';
import { SqliteEventStore, openSqliteDatabase } from '../sqlite';
import { runInNewContext } from 'node:vm';
import { asError, classifyFailure, markTransient } from './classify';
import { requestDeadLetterRetry } from './dead-letter-log';
import { FailurePolicy, SubscriberStopped } from './failure-policy';

const event = (customerId: string, type = 'InteractionRecorded'): JourneyEvent => ({
  id: randomUUID(),
  type,
  data: { event: 'x', properties: {} },
  metadata: {
    workspaceId: 'w',
    customerId,
    occurredAt: '2025-01-01T00:00:00.000Z',
    recordedAt: '2025-01-01T00:00:00.000Z',
    source: 'test',
    schemaVersion: 1,
  },
});

const coded = (code: string | number, name = 'Error', message = 'boom') => Object.assign(new Error(message), { code, name });

describe('classifyFailure', () => {
  it.each([
    ['a MongoDB network error', Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' })],
    ['a MongoDB server selection timeout', Object.assign(new Error('Server selection timed out'), { name: 'MongoServerSelectionError' })],
    ['a MongoDB primary stepping down', coded(189, 'MongoServerError')],
    ['a MongoDB error labelled retryable', Object.assign(coded(1, 'MongoServerError'), { errorLabels: ['RetryableWriteError'] })],
    ['SQLite busy', coded('SQLITE_BUSY', 'SqliteError')],
    ['SQLite full', coded('SQLITE_FULL', 'SqliteError')],
    ['SQLite I/O error', coded('SQLITE_IOERR_WRITE', 'SqliteError')],
    ['a full disk', coded('ENOSPC')],
    ['a refused connection', coded('ECONNREFUSED')],
    ['a reset connection', coded('ECONNRESET')],
    ['a KafkaJS retriable error', Object.assign(new Error('leader not available'), { name: 'KafkaJSProtocolError', retriable: true })],
    ['a KafkaJS connection error', Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' })],
    ['an error an adapter marked transient', markTransient(new Error('store is reopening'))],
    ['an error caused by a transient one', new Error('append failed', { cause: coded('ECONNRESET') })],
  ])('%s is transient', (_, error) => expect(classifyFailure(error)).toBe('transient'));

  it.each([
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'x')")],
    ['an invalid date', new RangeError('Invalid time value')],
    ['a stack overflow', new RangeError('Maximum call stack size exceeded')],
    ['MongoDB document validation', coded(121, 'MongoServerError', 'Document failed validation')],
    ['a BSON error', Object.assign(new Error('BSON document too large'), { name: 'BSONError' })],
    ['a KafkaJS non-retriable error', Object.assign(new Error('message too large'), { name: 'KafkaJSProtocolError', retriable: false })],
    ['a SQLite constraint', coded('SQLITE_CONSTRAINT_CHECK', 'SqliteError')],
    ['a thrown string', 'nope'],
  ])('%s is poison', (_, error) => expect(classifyFailure(error)).toBe('poison'));
});

describe('asError', () => {
  it('takes an error of another realm (a native addon under a sandbox) as it is, message and code', () => {
    const foreign = runInNewContext("Object.assign(new Error('disk on fire'), { code: 'SQLITE_CONSTRAINT_TRIGGER' })") as Error;
    expect(foreign instanceof Error).toBe(false);
    expect(asError(foreign)).toBe(foreign);
    expect(asError(foreign).message).toBe('disk on fire');
    expect(asError('plain').message).toBe('plain');
  });
});

describe('FailurePolicy', () => {
  const setup = (options: Partial<ConstructorParameters<typeof FailurePolicy>[0]> = {}) => {
    const store = new SqliteEventStore(openSqliteDatabase(':memory:'));
    const quarantined: string[] = [];
    const policy = new FailurePolicy({
      subscriber: 'test',
      store,
      minMs: 1,
      maxMs: 5,
      onQuarantined: (s, e) => quarantined.push(`${s}:${e.metadata.customerId}`),
      ...options,
    });
    const append = async (...events: JourneyEvent[]): Promise<RecordedEvent[]> => {
      for (const e of events) await store.appendToStream(customerStreamId('w', e.metadata.customerId), [e]);
      return (await store.readAll()).filter((r) => events.some((e) => e.id === r.id));
    };
    const letters = async () => foldDeadLetters(await store.readStream(deadLetterStreamId('w')));
    return { store, policy, quarantined, append, letters };
  };

  it('handles a batch once when it succeeds, and clears lastError', async () => {
    const { policy, append } = setup();
    const batch = await append(event('a'), event('b'));
    policy.lastError = new Error('earlier');
    const calls: number[] = [];
    await policy.run(batch, (events) => void calls.push(events.length));
    expect(calls).toEqual([2]);
    expect(policy.lastError).toBeUndefined();
  });

  it('retries a batch that fails transiently until it heals, lastError set meanwhile and cleared after, nothing quarantined', async () => {
    const { policy, append, letters } = setup();
    const batch = await append(event('a'), event('b'));
    let failures = 4;
    const seen: Array<Error | undefined> = [];
    await policy.run(batch, (events) => {
      seen.push(policy.lastError);
      if (failures-- > 0) throw coded('ECONNRESET');
      expect(events).toHaveLength(2); // retried whole, not split
    });
    expect(seen.map((e) => e?.message)).toEqual([undefined, 'boom', 'boom', 'boom', 'boom']);
    expect(policy.lastError).toBeUndefined();
    expect(await letters()).toEqual([]);
  });

  it('splits a batch that fails on one event: the other events are handled, the poison one quarantined after the attempts', async () => {
    const { policy, append, letters, quarantined } = setup({ poisonAttempts: 3 });
    const batch = await append(event('a'), event('poison'), event('b'));
    const handled: string[] = [];
    let poisonAttempts = 0;
    await policy.run(batch, (events) => {
      if (events.some((e) => e.metadata.customerId === 'poison')) {
        if (events.length === 1) poisonAttempts++;
        throw new RangeError('Invalid time value');
      }
      handled.push(...events.map((e) => e.metadata.customerId));
    });
    expect(handled).toEqual(['a', 'b']);
    expect(poisonAttempts).toBe(3);
    expect(quarantined).toEqual(['test:poison']);
    expect(await letters()).toEqual([
      expect.objectContaining({
        status: 'quarantined',
        subscriber: 'test',
        eventId: batch[1].id,
        eventType: 'InteractionRecorded',
        streamId: batch[1].streamId,
        position: batch[1].position.toString(),
        reason: 'RangeError',
        error: 'Invalid time value',
        attempts: 3,
      }),
    ]);
    expect(policy.lastError).toBeUndefined();
  });

  it('does not quarantine while its store does not answer the probe: an unknown error during an outage is waited out', async () => {
    let down = 3;
    const { policy, append, letters } = setup({
      probe: async () => {
        if (down-- > 0) throw new Error('no server');
      },
    });
    const [only] = await append(event('a'));
    let failures = 5;
    await policy.run([only], () => {
      if (failures-- > 0) throw new Error('something odd');
    });
    // 3 failures were outages (probe down), 2 counted as attempts: fewer than 3, so it was handled in the end.
    expect(await letters()).toEqual([]);
  });

  it('quarantining the same event again (a replay after a crash) records nothing new', async () => {
    const { policy, append, store } = setup({ poisonAttempts: 1 });
    const [poison] = await append(event('poison'));
    for (let i = 0; i < 2; i++) await policy.run([poison], () => Promise.reject(new TypeError('bad')));
    expect((await store.readStream(deadLetterStreamId('w'))).map((e) => e.type)).toEqual(['EventQuarantined']);
  });

  it('a retry request runs the event again: resolved when it succeeds, quarantined again when it fails, each answered once', async () => {
    const { policy, append, store, letters } = setup({ poisonAttempts: 1 });
    const [poison] = await append(event('poison'));
    await policy.run([poison], () => Promise.reject(new TypeError('bad')));
    const [letter] = await letters();

    await requestDeadLetterRetry(store, 'w', letter.id, 'admin');
    const [request] = (await store.readStream(deadLetterStreamId('w'))).filter((e) => e.type === 'DeadLetterRetryRequested');
    expect(policy.isRetryRequest(request)).toBe(true);
    expect(new FailurePolicy({ subscriber: 'other', store }).isRetryRequest(request)).toBe(false);
    await policy.retry(request, () => Promise.reject(new TypeError('still bad')));
    expect(await letters()).toEqual([expect.objectContaining({ status: 'quarantined', retries: 1, error: 'still bad' })]);

    await requestDeadLetterRetry(store, 'w', letter.id, 'admin');
    const second = (await store.readStream(deadLetterStreamId('w'))).filter((e) => e.type === 'DeadLetterRetryRequested')[1];
    const ran: string[] = [];
    await policy.retry(second, (events) => void ran.push(...events.map((e) => e.id)));
    await policy.retry(second, (events) => void ran.push(...events.map((e) => e.id))); // a replay: answered already
    expect(ran).toEqual([poison.id]);
    expect(await letters()).toEqual([expect.objectContaining({ status: 'resolved', retries: 2, resolvedAt: expect.any(String) })]);
  });

  it('never makes a dead letter of a dead-letter record (no loop when a subscriber fails on its own records)', async () => {
    const { policy, append, store } = setup({ poisonAttempts: 1 });
    const [poison] = await append(event('poison'));
    await policy.run([poison], () => Promise.reject(new TypeError('bad')));
    const [record] = await store.readStream(deadLetterStreamId('w'));
    await policy.run([record], () => Promise.reject(new TypeError('bad')));
    expect(await store.readStream(deadLetterStreamId('w'))).toHaveLength(1);
  });

  it('stop ends a transient retry at once', async () => {
    const { policy, append } = setup({ minMs: 60_000, maxMs: 60_000 });
    const [only] = await append(event('a'));
    const running = policy.run([only], () => Promise.reject(coded('ECONNREFUSED')));
    await new Promise((r) => setTimeout(r, 20));
    expect(policy.lastError?.message).toBe('boom');
    policy.stop();
    await expect(running).rejects.toBeInstanceOf(SubscriberStopped);
  });
});
