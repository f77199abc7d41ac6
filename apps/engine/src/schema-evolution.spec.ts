/**
 * Schema evolution end to end: with a v1→v2 upcaster for every event type the engine writes, every writer stamps v2
 * (through `envelope`), and reading back through the event store (and the EventStoreDB mapping) runs the upcaster
 * exactly once on each old v1 event and never on an event a writer just wrote.
 *
 * The engine's upcaster set is a module (libs/domain/src/engine-upcasters.ts): this test replaces it with one that has
 * an upcaster per type and records each call, as a release that changes every type would.
 */
import {
  ENGINE_UPCASTERS,
  decideDelivery,
  decideStage,
  decideTrigger,
  deadLetterResolved,
  deadLetterRetryRequested,
  evolveDelivery,
  evolveStage,
  evolveTrigger,
  eventQuarantined,
  foldDeadLetters,
  initialDeliveryState,
  initialStageState,
  initialTriggerState,
  requestResend,
  simulateCustomer,
  customerStreamId,
  type DeliveryState,
  type JourneyEvent,
  type RetryPolicy,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { fromRecordedEvent, toEventData } from '../../../libs/event-store/src/eventstoredb/mapping';
import { parseSegmentBatch } from '@journey/integration';
import { TimerScheduler } from '@journey/reactors';
import { enabledProgram, History } from '../../../libs/domain/src/triggers/testing';
import { FakeClock } from '../../../libs/reactors/src/testing/fake-clock';
import { generateKey, keyCreated, keyRevoked, recordOf } from './auth/api-keys';
import { OpenInboxMessageCommand, OpenInboxMessageHandler } from './messaging/open-inbox-message.command';

jest.mock('../../../libs/domain/src/engine-upcasters', () => {
  const { Upcasters } = jest.requireActual('../../../libs/domain/src/upcasters');
  // Every event type some writer writes (the test below fails on a written type missing here).
  const types = [
    ...['CustomerIdentified', 'TraitsUpdated', 'InteractionRecorded', 'PageViewed', 'AccountLinked', 'IdentitiesMerged', 'StageChanged'],
    ...[
      'TriggerMatched',
      'MessageScheduled',
      'MessageSent',
      'MessageDelivered',
      'MessageFailed',
      'MessageResendRequested',
      'MessageSuppressed',
    ],
    ...[
      'MessageOpened',
      'MessageClicked',
      'CsmTaskOpened',
      'CsmTaskClosed',
      'TimerScheduled',
      'TimerFired',
      'TimerCancelled',
      'CustomerForgotten',
    ],
    ...['TriggerDefined', 'TriggerEnabled', 'TriggerDisabled', 'TriggerRunStepEntered', 'TriggerRunExited'],
    ...['EventQuarantined', 'DeadLetterRetryRequested', 'DeadLetterResolved', 'ApiKeyCreated', 'ApiKeyRevoked'],
  ];
  const calls: string[] = [];
  const upcast = (data: Record<string, unknown>) => {
    calls.push(String(data.legacyId ?? '(an event written at the current version)'));
    return { ...data, upcast: true };
  };
  return {
    ENGINE_UPCASTERS: Upcasters.of(types.map((type) => ({ type, fromVersion: 1, upcast }))),
    mockUpcastCalls: calls,
    mockUpcastTypes: types,
  };
});

const { mockUpcastCalls: upcastCalls, mockUpcastTypes: upcastTypes } = jest.requireMock<{
  mockUpcastCalls: string[];
  mockUpcastTypes: string[];
}>('../../../libs/domain/src/engine-upcasters');

const WS = 'w';
const at = (day: number, hour = 10) => new Date(Date.UTC(2025, 2, day, hour)).toISOString();
const retry: RetryPolicy = { maxAttempts: 1, baseDelayMs: 1000, maxDelayMs: 60_000, budgetMs: 3_600_000 };

/** Every writer of the engine, each with the events it wrote. */
async function writeThroughEveryWriter(): Promise<Record<string, JourneyEvent[]>> {
  const written: Record<string, JourneyEvent[]> = {};

  const ingested = parseSegmentBatch(
    {
      batch: [
        {
          type: 'identify',
          userId: 'ada',
          traits: { name: 'Ada', renewal_date: '2026-01-01T00:00:00.000Z' },
          messageId: 'm-identify',
          timestamp: at(1),
        },
        { type: 'track', userId: 'ada', event: 'Signed Up', messageId: 'm-track', timestamp: at(1, 11) },
        { type: 'page', userId: 'ada', name: 'Home', messageId: 'm-page', timestamp: at(1, 12) },
        { type: 'group', userId: 'ada', groupId: 'acme', messageId: 'm-group', timestamp: at(1, 13) },
        { type: 'alias', userId: 'ada', previousId: 'anon-1', messageId: 'm-alias', timestamp: at(1, 14) },
      ],
    },
    { workspaceId: WS, receivedAt: at(1, 15), source: 'http' },
  );
  if (!ingested.ok) throw new Error('the batch is valid');
  written['Segment ingestion (HTTP and Kafka)'] = ingested.events;

  const identify = ingested.events[0];
  const stage = decideStage(initialStageState, identify, new Date(at(1, 15)));
  const afterStage = stage.reduce(evolveStage, evolveStage(initialStageState, identify));
  const renewalMoved = decideStage(
    afterStage,
    { ...identify, id: 'identify-2', data: { ...identify.data, traits: { renewal_date: '2026-06-01T00:00:00.000Z' } } },
    new Date(at(2)),
  );
  written['stage reactor'] = [...stage, ...renewalMoved];

  let trigger = initialTriggerState('welcome');
  const definition = {
    id: 'welcome',
    name: 'Welcome',
    entry: { absent: { event: 'Activated', for: '1d', after: { event: 'CustomerIdentified' } } },
    steps: [{ send: { channel: 'inbox', subject: 'Hi', body: 'Welcome' } }],
  };
  written['trigger definitions'] = [];
  for (const command of [
    { type: 'DefineTrigger', definition } as const,
    { type: 'EnableTrigger' } as const,
    { type: 'DisableTrigger' } as const,
  ]) {
    for (const e of decideTrigger(command, trigger, { workspaceId: WS, now: new Date(at(1)) })) {
      written['trigger definitions'].push(e);
      trigger = evolveTrigger(trigger, e);
    }
  }

  const history = new History('ada', WS);
  history.identify(at(1), { name: 'Ada' });
  history.track(at(1, 11), 'Signed Up');
  written['trigger test helpers (History)'] = history.events;
  const simulated = simulateCustomer([enabledProgram(definition, WS)], history.events, new Date(at(5))).decided;
  written['trigger runs (and their timers in a backtest)'] = simulated;

  const scheduled = simulated.find((e) => e.type === 'MessageScheduled');
  if (!scheduled) throw new Error('the trigger sends');
  let delivery: DeliveryState = evolveDelivery(initialDeliveryState(), scheduled);
  const delivered: JourneyEvent[] = [];
  const decide = (events: JourneyEvent[]) => {
    delivered.push(...events);
    delivery = events.reduce(evolveDelivery, delivery);
  };
  decide(decideDelivery({ type: 'StartAttempt', now: new Date(at(3)), retry }, delivery));
  decide(
    decideDelivery(
      { type: 'CompleteAttempt', now: new Date(at(3)), attempt: 1, retry, result: { ok: false, retryable: false, error: 'HTTP 400' } },
      delivery,
    ),
  );
  const resend = requestResend(delivery, new Date(at(4)));
  if (!resend) throw new Error('a failed message can be sent again');
  decide([resend]);
  decide(decideDelivery({ type: 'StartAttempt', now: new Date(at(4)), retry }, delivery));
  decide(
    decideDelivery(
      {
        type: 'CompleteAttempt',
        now: new Date(at(4)),
        attempt: 2,
        retry,
        result: { ok: true, content: { subject: 'Hi', body: 'Welcome' } },
      },
      delivery,
    ),
  );
  written['dispatcher (and admin re-sends)'] = delivered;

  const subject = { ...identify, streamId: customerStreamId(WS, 'ada'), revision: 0n, position: 1n };
  const quarantined = eventQuarantined('projector', subject, { reason: 'TypeError', error: 'boom', attempts: 3 }, new Date(at(2)));
  const [letter] = foldDeadLetters([{ ...quarantined, streamId: 'deadletters-w', revision: 0n, position: 2n }]);
  const retried = deadLetterRetryRequested(letter, 'admin', 'retry-1', new Date(at(2, 11)));
  written['dead letters (failure policy, admin retries)'] = [
    quarantined,
    retried,
    deadLetterResolved('projector', subject, 'retry-1', new Date(at(2, 12))),
  ];

  const record = recordOf(generateKey('admin'), { workspaceId: WS, role: 'admin', name: 'ops', createdAt: at(1), source: 'api' });
  written['API keys'] = [keyCreated(record, at(1)), keyRevoked(WS, { keyId: record.id, reason: 'revoked', by: 'key_admin' }, at(2))];

  // The writers with I/O: the timer scheduler fires a due timer into the store, the inbox's open command records an open.
  const store = new SqliteEventStore(openSqliteDatabase(':memory:'), { upcasters: ENGINE_UPCASTERS });
  const customer = customerStreamId(WS, 'ada');
  const timer = stage.find((e) => e.type === 'TimerScheduled');
  if (!timer) throw new Error('the stage reactor schedules a timer');
  const inboxDelivery = delivered.find((e) => e.type === 'MessageDelivered');
  if (!inboxDelivery) throw new Error('the message is delivered');
  await store.appendToStream(customer, [timer, inboxDelivery]);
  const clock = new FakeClock(at(1));
  const scheduler = new TimerScheduler({ store, clock });
  await scheduler.start();
  clock.set('2030-01-01T00:00:00.000Z');
  await scheduler.settled();
  await scheduler.stop();
  await new OpenInboxMessageHandler(store).execute(new OpenInboxMessageCommand(WS, 'ada', String(inboxDelivery.data.messageId)));
  const stored = await store.readStream(customer);
  written['timer scheduler'] = stored.filter((e) => e.type === 'TimerFired');
  written['inbox open command'] = stored.filter((e) => e.type === 'MessageOpened');
  await store.close();
  return written;
}

/** An event as an older release wrote it: schema version 1, in the old shape (here: a marker the upcaster reports). */
const oldEvent = (type: string): JourneyEvent => ({
  id: `old-${type}`,
  type,
  data: { legacyId: `old-${type}` },
  metadata: { workspaceId: WS, customerId: 'ada', occurredAt: at(1), recordedAt: at(1), source: 'old release', schemaVersion: 1 },
});

/** The envelope alone, without what the store adds (stream, revision, position). */
const asWritten = ({ id, type, data, metadata }: JourneyEvent): JourneyEvent => ({ id, type, data, metadata });

describe('schema evolution: upcasters run on old events only, for every writer', () => {
  let written: Record<string, JourneyEvent[]>;
  let fresh: JourneyEvent[];
  const old = () => upcastTypes.map(oldEvent);

  beforeAll(async () => {
    written = await writeThroughEveryWriter();
    const byId = new Map(
      Object.values(written)
        .flat()
        .map((e) => [e.id, e]),
    );
    fresh = [...byId.values()].map(asWritten);
  });
  beforeEach(() => {
    upcastCalls.length = 0;
  });

  it('every writer stamps the current version (2) of its types, and wrote something to check', () => {
    for (const [writer, events] of Object.entries(written)) {
      expect({ writer, wrote: events.length > 0 }).toEqual({ writer, wrote: true });
      for (const e of events) {
        expect({ writer, type: e.type, covered: upcastTypes.includes(e.type) }).toEqual({ writer, type: e.type, covered: true });
        expect({ writer, type: e.type, schemaVersion: e.metadata.schemaVersion }).toEqual({ writer, type: e.type, schemaVersion: 2 });
      }
    }
    expect(upcastCalls).toEqual([]); // the scheduler and the inbox read their own writes: nothing to upcast
  });

  it('reading back through the SQLite store upcasts each old event exactly once and no new one', async () => {
    const store = new SqliteEventStore(openSqliteDatabase(':memory:'), { upcasters: ENGINE_UPCASTERS });
    for (const [i, e] of [...fresh, ...old()].entries()) await store.appendToStream(`s-${i}`, [e]);
    upcastCalls.length = 0;
    const read = await store.readAll({ maxCount: 10_000 });
    await store.close();

    expect([...upcastCalls].sort()).toEqual(
      old()
        .map((e) => e.id)
        .sort(),
    );
    expect(read).toHaveLength(fresh.length + upcastTypes.length);
    expect(read.every((e) => e.metadata.schemaVersion === 2)).toBe(true);
    const readById = new Map(read.map((e) => [e.id, e]));
    for (const e of fresh) expect(asWritten(readById.get(e.id)!)).toEqual(JSON.parse(JSON.stringify(e)));
    for (const e of old()) expect(readById.get(e.id)?.data).toEqual({ legacyId: e.id, upcast: true });
  });

  it('reading back through the EventStoreDB mapping does the same', () => {
    const esdb = (e: JourneyEvent, position: bigint) => {
      const stored = toEventData(e);
      return {
        streamId: 's',
        id: e.id,
        isJson: true,
        revision: 0n,
        type: e.type,
        created: new Date(0),
        data: stored.data,
        metadata: stored.metadata,
        position: { commit: position, prepare: position },
      };
    };
    const read = [...fresh, ...old()].map((e, i) =>
      fromRecordedEvent(esdb(e, BigInt(i + 1)) as Parameters<typeof fromRecordedEvent>[0], ENGINE_UPCASTERS),
    );

    expect([...upcastCalls].sort()).toEqual(
      old()
        .map((e) => e.id)
        .sort(),
    );
    expect(read.every((e) => e?.metadata.schemaVersion === 2)).toBe(true);
  });
});
