import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import {
  customerStreamId,
  decideTrigger,
  enabledProgram,
  evolveTrigger,
  History,
  initialTriggerState,
  simulateCustomer,
  triggerStreamId,
  type JourneyEvent,
} from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import {
  MESSAGES,
  MongoReadModelStore,
  ProjectionRunner,
  SqliteReadModelStore,
  messageDocId,
  rebuildProjection,
  triggerAnalyticsProjection,
  type MessageDoc,
  type ReadModelStore,
} from '@journey/read-models';
import { describeWithServer } from '../../../../libs/integration/src/testing/servers';
import { TriggerInsightsService, type TriggerVersionStats } from './trigger-insights.service';

const v1 = {
  id: 'nudge',
  name: 'Nudge',
  entry: { event: 'Signed Up' },
  exit: [{ when: { event: 'Activated' }, reason: 'converted' }],
  steps: [
    {
      split: {
        holdout: 40,
        variants: [
          { name: 'a', weight: 1, steps: [{ send: { channel: 'inbox', body: 'Hi' } }, { wait: { duration: '2d' } }] },
          { name: 'b', weight: 1, steps: [{ send: { channel: 'email', body: 'Hello' } }, { wait: { duration: '2d' } }] },
        ],
      },
    },
  ],
};
/** The shadow version: variant b sends in-app too. */
const v2 = {
  ...v1,
  steps: [
    {
      split: {
        holdout: 40,
        variants: [
          v1.steps[0].split.variants[0],
          { name: 'b', weight: 1, steps: [{ send: { channel: 'inbox', body: 'Hello' } }, { wait: { duration: '2d' } }] },
        ],
      },
    },
  ],
};

const N = 60;
/** Customers: every third activates a day after signing up (converts), every fifth two months later (outside the window). */
const activatesSoon = (i: number) => i % 3 === 0;
const activatesLate = (i: number) => i % 5 === 1 && !activatesSoon(i);

let n = 0;
const id = () => `00000000-0000-4000-a000-${String(++n).padStart(12, '0')}`;

/** As the keyed/shadow runtime records a shadow run: run events marked `shadow`, a MessageShadowed instead of a send. */
function asShadow(e: JourneyEvent): JourneyEvent | undefined {
  const d = e.data as Record<string, unknown>;
  // the same run and message ids as the live runs': the read model keeps them apart by `shadow`
  const runId = String(d.runId);
  switch (e.type) {
    case 'TriggerMatched':
    case 'TriggerRunStepEntered':
    case 'TriggerRunExited':
      return { ...e, id: id(), data: { ...d, runId, version: 2, shadow: true } };
    case 'MessageScheduled':
      return {
        ...e,
        id: id(),
        type: 'MessageShadowed',
        data: {
          messageId: String(d.messageId),
          channel: d.channel,
          triggerId: d.triggerId,
          triggerVersion: 2,
          runId,
          step: d.step,
          guards: [],
          // in shadow, the email variant's customers with an odd number are over a cap
          ...(d.channel === 'inbox' && Number(e.metadata.customerId.slice(1)) % 7 === 0
            ? { suppressed: { reason: 'frequency-cap', detail: 'test' } }
            : {}),
        },
      };
    default:
      return undefined;
  }
}

/** The log: v1 defined and live, v2 defined and running in shadow, each customer's stream, a test send. */
function history(): Array<{ streamId: string; event: JourneyEvent }> {
  const out: Array<{ streamId: string; event: JourneyEvent }> = [];
  let state = initialTriggerState('nudge');
  for (const definition of [v1, v2]) {
    const events = decideTrigger({ type: 'DefineTrigger', definition }, state, { workspaceId: 'w', now: new Date('2025-02-01T00:00:00Z') });
    for (const e of events) out.push({ streamId: triggerStreamId('w', 'nudge'), event: e });
    state = events.reduce(evolveTrigger, state);
  }
  const live = enabledProgram(v1, 'w');
  const shadow = enabledProgram(v2, 'w');
  for (let i = 0; i < N; i++) {
    const h = new History(`c${i}`, 'w');
    h.track('2025-03-01T10:00:00Z', 'Signed Up');
    if (activatesSoon(i)) h.track('2025-03-02T10:00:00Z', 'Activated');
    if (activatesLate(i)) h.track('2025-05-01T10:00:00Z', 'Activated');
    const { stream } = simulateCustomer([live], h.events, new Date('2025-06-01T00:00:00Z'));
    const shadowed = simulateCustomer([shadow], h.events, new Date('2025-06-01T00:00:00Z'))
      .decided.map(asShadow)
      .filter((e): e is JourneyEvent => e !== undefined);
    // each shadow decision lands right after the live decisions on the same input (by time, then live first)
    const merged = [...stream, ...shadowed].sort(
      (a, b) => Date.parse(a.metadata.recordedAt) - Date.parse(b.metadata.recordedAt) || Number(!!a.data.shadow) - Number(!!b.data.shadow),
    );
    for (const e of merged) out.push({ streamId: customerStreamId('w', `c${i}`), event: { ...e, id: e.id.length > 36 ? id() : e.id } });
  }
  // a test send of the live version's step: counted nowhere
  out.push({
    streamId: customerStreamId('w', 'c1'),
    event: {
      id: id(),
      type: 'MessageScheduled',
      data: {
        messageId: 'test-1',
        channel: 'inbox',
        triggerId: 'nudge',
        triggerVersion: 1,
        step: '0.variants.0.0',
        template: { body: 'Hi' },
        test: true,
        to: 'qa@example.com',
      },
      metadata: {
        workspaceId: 'w',
        customerId: 'c1',
        occurredAt: '2025-03-03T00:00:00Z',
        recordedAt: '2025-03-03T00:00:00Z',
        source: 'http',
        schemaVersion: 1,
      },
    },
  });
  return out;
}

async function append(events: EventStore): Promise<void> {
  for (const { streamId, event } of history()) await events.appendToStream(streamId, [event]);
}

async function answers(events: EventStore, store: ReadModelStore) {
  const insights = new TriggerInsightsService(events, store);
  return {
    all: await insights.analytics('w', 'nudge'),
    before: await insights.analytics('w', 'nudge', '2025-03-01'),
    after: await insights.analytics('w', 'nudge', '2025-03-02'),
  };
}

/** Live (many small batches), then rebuilt from zero: identical documents and the same answers. */
async function liveThenRebuilt(events: EventStore, store: ReadModelStore) {
  const runner = new ProjectionRunner(triggerAnalyticsProjection, events, store, { batchSize: 7, coalesceMs: 0 });
  await runner.start();
  await append(events);
  await runner.waitFor(await events.headPosition(), 120_000);
  await runner.stop();
  const live = await answers(events, store);
  const report = await rebuildProjection(events, store, triggerAnalyticsProjection);
  expect(report.identical).toBe(true);
  expect(await answers(events, store)).toEqual(live);
  return { live, store };
}

/** What the fixture must give, from the live program's own assignments. */
function expectFigures(all: TriggerVersionStats[]) {
  const [one, two] = all;
  expect(one).toMatchObject({ triggerId: 'nudge', version: 1, runs: N });
  expect(two).toMatchObject({ version: 2, runs: 0, treated: 0, steps: [] });
  // live v1: the test send is not a message of the trigger
  const sent = one.steps.filter((s) => s.kind === 'send').reduce((k, s) => k + s.scheduled, 0);
  expect(one.live.messages.inbox + one.live.messages.email).toBe(sent);
  expect(one.live).toMatchObject({ runs: N, converted: one.converted, suppressed: {} });
  expect(one.shadow).toBeNull();
  // shadow v2: the same runs, the email variant's sends would go in-app, some suppressed
  expect(two.shadow).toMatchObject({ runs: N, converted: one.converted });
  expect(two.shadow!.messages.email).toBeUndefined();
  expect(two.shadow!.messages.inbox + two.shadow!.suppressed['frequency-cap']).toBe(sent);
  expect(two.shadow!.suppressed['frequency-cap']).toBeGreaterThan(0);
  expect(two.live).toMatchObject({ runs: 0, messages: {} });
}

describe('trigger analytics on SQLite: shadow, test sends, lift as of a day', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-trigger-analytics-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('live equals rebuilt, shadow apart from live, test sends nowhere, lift with intervals as of a day', async () => {
    const db = openSqliteDatabase(join(dir, 'sqlite.db'), { synchronous: 'NORMAL' });
    try {
      const events = new SqliteEventStore(db);
      const { live, store } = await liveThenRebuilt(events, new SqliteReadModelStore(db));
      expectFigures(live.all);
      const test = await store.get<MessageDoc>(MESSAGES, messageDocId('w', 'test-1'));
      expect(test?.doc).toMatchObject({ test: 1, key: '', triggerId: '' });

      const lift = live.all[0].lift!;
      expect(lift).toMatchObject({ goals: ['Activated'], windowDays: 30, asOf: null });
      const { holdout, treated, variants } = lift.live!;
      expect(holdout.runs + treated.runs).toBe(N);
      expect(holdout.runs).toBe(live.all[0].holdout.runs);
      expect(variants.map((v) => v.variant)).toEqual(['a', 'b']);
      expect(variants[0].runs + variants[1].runs).toBe(treated.runs);
      // conversion: Activated within 30 days of matching, for treated and held-out runs alike (late ones do not count)
      const soon = Array.from({ length: N }, (_, i) => i).filter(activatesSoon).length;
      expect(holdout.converted + treated.converted).toBe(soon);
      expect(treated.converted).toBe(live.all[0].converted);
      expect(treated.conversionRate).toBeCloseTo(treated.converted / treated.runs, 4);
      expect(treated.lift).toBeCloseTo(
        (treated.converted / treated.runs - holdout.converted / holdout.runs) / (holdout.converted / holdout.runs),
        3,
      );
      expect(treated.liftCi95!.lower).toBeLessThan(treated.lift!);
      expect(treated.liftCi95!.upper).toBeGreaterThan(treated.lift!);
      expect(treated.differenceCi95!.lower).toBeLessThan(treated.difference!);
      expect(treated.method).toMatch(/Katz.*Newcombe/);
      // the shadow version's runs have their own lift (v2, shadow), none live
      expect(lift.shadow).toBeNull();
      expect(live.all[1].lift).toMatchObject({ live: null, shadow: { holdout: { runs: holdout.runs } } });
      expect(live.all[1].lift!.shadow!.treated.converted).toBe(treated.converted);

      // as of the day of the sign-ups: everyone assigned, nobody converted yet; the next day: all of them
      const before = live.before[0].lift!.live!;
      expect(before.holdout).toMatchObject({ runs: holdout.runs, converted: 0 });
      expect(before.treated).toMatchObject({ runs: treated.runs, converted: 0, lift: null });
      expect(live.before[0].lift!.asOf).toBe('2025-03-01');
      expect(live.after[0].lift!.live).toEqual(lift.live);
    } finally {
      db.close();
    }
  });
});

describeWithServer('trigger analytics on MongoDB', 'MONGODB_URL', (url) => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-trigger-analytics-mongo-'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(`trigger_analytics_${process.pid}`);
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same figures as on SQLite, live and rebuilt', async () => {
    const sqlite = openSqliteDatabase(join(dir, 'events.db'), { synchronous: 'NORMAL' });
    const reference = openSqliteDatabase(join(dir, 'reference.db'), { synchronous: 'NORMAL' });
    try {
      const onMongo = await liveThenRebuilt(new SqliteEventStore(sqlite), new MongoReadModelStore(db));
      const onSqlite = await liveThenRebuilt(new SqliteEventStore(reference), new SqliteReadModelStore(reference));
      expectFigures(onMongo.live.all);
      expect(onMongo.live).toEqual(onSqlite.live);
    } finally {
      sqlite.close();
      reference.close();
    }
  }, 240_000);
});
