import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { broadcastMessageId, broadcastStreamId, customerStreamId, deterministicId, envelope, type JourneyEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { describeWithServer } from '../../../integration/src/testing/servers';
import { MongoReadModelStore } from '../mongodb/mongo-read-model-store';
import { ProjectionRunner, rebuildProjection } from '../runner';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import type { ReadModelStore } from '../store.port';
import { BROADCASTS, BROADCAST_MESSAGES, broadcastAnalyticsProjection, type BroadcastDoc } from '.';

const WS = 'w';
let n = 0;
const at = () => new Date(Date.parse('2026-12-10T08:00:00Z') + ++n * 1000).toISOString();
const ev = (type: string, data: Record<string, unknown>, customerId = '') => {
  const time = at();
  return envelope({
    id: deterministicId('spec', n),
    type,
    data,
    workspaceId: WS,
    customerId,
    occurredAt: time,
    recordedAt: time,
    source: 'test',
  });
};
const mid = (c: string) => broadcastMessageId(WS, 'b1', c);
const counts = { targeted: 5, scheduled: 2, suppressed: { consent: 1 }, timers: 2, skipped: 0 };

/** A broadcast to five members: two sent (one opened and clicked), one suppressed, two local-time timers (one fired). */
function history(): Array<{ streamId: string; event: JourneyEvent }> {
  const b = (type: string, data: Record<string, unknown>) => ({ streamId: broadcastStreamId(WS, 'b1'), event: ev(type, data) });
  const c = (customerId: string, type: string, data: Record<string, unknown>) => ({
    streamId: customerStreamId(WS, customerId),
    event: ev(type, data, customerId),
  });
  const send = { channel: 'inbox', body: 'Hi' };
  return [
    b('BroadcastScheduled', { broadcastId: 'b1', segmentId: 'all', send, startAt: '2026-12-10T08:00:00Z', by: 'http:csm' }),
    c('ann', 'MessageScheduled', { messageId: mid('ann'), channel: 'inbox', template: send, broadcastId: 'b1' }),
    c('bob', 'MessageSuppressed', { messageId: mid('bob'), channel: 'inbox', reason: 'consent', broadcastId: 'b1' }),
    c('cid', 'MessageScheduled', { messageId: mid('cid'), channel: 'inbox', template: send, broadcastId: 'b1' }),
    c('dee', 'TimerScheduled', { timerId: 't-dee', dueAt: '2026-12-10T09:00:00Z', purpose: 'broadcast:b1' }),
    c('eve', 'TimerScheduled', { timerId: 't-eve', dueAt: '2026-12-10T15:00:00Z', purpose: 'broadcast:b1' }),
    b('BroadcastProgressed', { broadcastId: 'b1', after: 'cid', counts: { ...counts, targeted: 3, timers: 0 } }),
    b('BroadcastCompleted', { broadcastId: 'b1', counts }),
    c('ann', 'MessageSent', { messageId: mid('ann'), channel: 'inbox', attempt: 1 }),
    c('ann', 'MessageDelivered', { messageId: mid('ann'), channel: 'inbox', attempt: 1 }),
    c('cid', 'MessageSent', { messageId: mid('cid'), channel: 'inbox', attempt: 1 }),
    c('cid', 'MessageFailed', { messageId: mid('cid'), channel: 'inbox', attempts: 3, error: 'down' }),
    c('ann', 'MessageOpened', { messageId: mid('ann') }),
    c('ann', 'MessageClicked', { messageId: mid('ann'), url: 'https://example.com' }),
    c('dee', 'TimerFired', { timerId: 't-dee', purpose: 'broadcast:b1' }),
    c('dee', 'MessageScheduled', { messageId: mid('dee'), channel: 'inbox', template: send, broadcastId: 'b1' }),
    c('dee', 'MessageSent', { messageId: mid('dee'), channel: 'inbox', attempt: 1 }),
    c('dee', 'MessageDelivered', { messageId: mid('dee'), channel: 'inbox', attempt: 1 }),
    // a test send (never counted), and a message no broadcast sent
    c('ann', 'MessageScheduled', { messageId: 'test-1', channel: 'inbox', template: send, broadcastId: 'b1', test: true }),
    c('ann', 'MessageDelivered', { messageId: 'test-1', channel: 'inbox', attempt: 1 }),
    c('ann', 'MessageScheduled', { messageId: 'other', channel: 'inbox', template: send, triggerId: 't' }),
    c('ann', 'MessageOpened', { messageId: 'other' }),
  ];
}

async function answers(store: ReadModelStore) {
  const where = { workspaceId: WS, broadcastId: 'b1' };
  const by = async (field: string) =>
    Object.fromEntries(
      (await store.countBy(BROADCAST_MESSAGES, field, where))
        .map((c): [string, number] => [String(c.value), c.count])
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  const broadcasts = (await store.find<BroadcastDoc>(BROADCASTS, { workspaceId: WS })).map((d) => d.doc);
  return {
    status: await by('status'),
    suppressedReason: await by('suppressedReason'),
    ...Object.fromEntries(
      await Promise.all(['scheduled', 'sent', 'delivered', 'failed', 'opened', 'clicked', 'timer'].map(async (f) => [f, await by(f)])),
    ),
    broadcasts,
  };
}

async function liveThenRebuilt(events: EventStore, store: ReadModelStore) {
  const runner = new ProjectionRunner(broadcastAnalyticsProjection, events, store, { batchSize: 3, coalesceMs: 0 });
  await runner.start();
  for (const { streamId, event } of history()) await events.appendToStream(streamId, [event]);
  await runner.waitFor(await events.headPosition());
  await runner.stop();
  const live = await answers(store);
  const report = await rebuildProjection(events, store, broadcastAnalyticsProjection);
  expect(report.identical).toBe(true);
  expect(report.documents).toEqual({ broadcasts: 1, broadcast_messages: 5 });
  expect(await answers(store)).toEqual(live);
  return live;
}

const EXPECTED = {
  status: { delivered: 2, failed: 1, pending: 1, suppressed: 1 },
  suppressedReason: { '': 4, consent: 1 },
  scheduled: { '0': 2, '1': 3 },
  sent: { '0': 2, '1': 3 },
  delivered: { '0': 3, '1': 2 },
  failed: { '0': 4, '1': 1 },
  opened: { '0': 4, '1': 1 },
  clicked: { '0': 4, '1': 1 },
  timer: { '0': 3, '1': 2 },
  broadcasts: [expect.objectContaining({ broadcastId: 'b1', segmentId: 'all', status: 'completed', counts, by: 'http:csm' })],
};

describe('broadcast-analytics on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-broadcast-analytics-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts each member’s outcome through the message id; test sends and other messages never count; a rebuild is identical', async () => {
    const db = openSqliteDatabase(join(dir, 'sqlite.db'), { synchronous: 'NORMAL' });
    try {
      expect(await liveThenRebuilt(new SqliteEventStore(db), new SqliteReadModelStore(db))).toEqual(EXPECTED);
    } finally {
      db.close();
    }
  });
});

describeWithServer('broadcast-analytics on MongoDB', 'MONGODB_URL', (url) => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-broadcast-analytics-mongo-'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  const db = client.db(`broadcast_analytics_${process.pid}`);
  afterAll(async () => {
    await db.dropDatabase();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the same projection code gives the same figures as on SQLite, live and rebuilt', async () => {
    const sqlite = openSqliteDatabase(join(dir, 'events.db'), { synchronous: 'NORMAL' });
    try {
      expect(await liveThenRebuilt(new SqliteEventStore(sqlite), new MongoReadModelStore(db))).toEqual(EXPECTED);
    } finally {
      sqlite.close();
    }
  });
});
