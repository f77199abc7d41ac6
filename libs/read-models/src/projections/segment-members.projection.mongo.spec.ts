import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { customerStreamId, envelope, type EventDataByType, type JourneyEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { describeWithServer } from '../../../integration/src/testing/servers';
import { MongoReadModelStore } from '../mongodb/mongo-read-model-store';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { ProjectionRunner, rebuildProjection } from '../runner';
import type { ReadModelStore } from '../store.port';
import {
  SEGMENT_COUNTS,
  SEGMENT_MEMBERS,
  SEGMENT_TOTALS,
  segmentMembersProjection,
  segmentTotalDocId,
  type SegmentCountDoc,
  type SegmentMemberDoc,
  type SegmentTotalDoc,
} from './segment-members.projection';

let seq = 0;
function change(customerId: string, entered: boolean, segmentId: string, at: string, workspaceId = 'acme'): JourneyEvent {
  const data: EventDataByType['SegmentLeft'] = { segmentId, version: 1, reason: 'conditions' };
  return envelope({
    id: `segment-members-${++seq}`,
    type: entered ? 'SegmentEntered' : 'SegmentLeft',
    data: entered ? { segmentId, version: 1 } : data,
    workspaceId,
    customerId,
    occurredAt: at,
    recordedAt: at,
    source: 'segments',
  });
}

/** Membership over two days: c0..c4 enter `pro` on day 1, c1 and c3 leave on day 2, c5 enters then; `other` ws apart. */
async function project(events: EventStore, store: ReadModelStore): Promise<void> {
  const runner = new ProjectionRunner(segmentMembersProjection, events, store, { batchSize: 3 });
  await runner.start();
  const history = [
    ...[0, 1, 2, 3, 4].map((i) => change(`c${i}`, true, 'pro', `2026-03-01T10:0${i}:00.000Z`)),
    change('c1', false, 'pro', '2026-03-02T09:00:00.000Z'),
    change('c3', false, 'pro', '2026-03-02T09:30:00.000Z'),
    change('c5', true, 'pro', '2026-03-02T10:00:00.000Z'),
    change('c0', true, 'quiet', '2026-03-02T10:00:00.000Z'),
    change('c9', true, 'pro', '2026-03-02T10:00:00.000Z', 'other'),
  ];
  for (const e of history) await events.appendToStream(customerStreamId(e.metadata.workspaceId, e.metadata.customerId), [e]);
  await runner.waitFor(await events.headPosition());
  await runner.stop();
}

async function expectModel(store: ReadModelStore): Promise<void> {
  const where = { workspaceId: 'acme', segmentId: 'pro', member: 1 };
  const all = await store.find<SegmentMemberDoc>(SEGMENT_MEMBERS, where, { orderBy: ['customerId'] });
  expect(all.map((d) => d.doc.customerId)).toEqual(['c0', 'c2', 'c4', 'c5']);
  expect(all[0].doc).toMatchObject({ workspaceId: 'acme', segmentId: 'pro', customerId: 'c0', enteredAt: '2026-03-01T10:00:00.000Z' });
  // keyset paging by customer id
  const page2 = await store.find<SegmentMemberDoc>(SEGMENT_MEMBERS, where, {
    orderBy: ['customerId'],
    limit: 2,
    after: { field: 'customerId', value: 'c2' },
  });
  expect(page2.map((d) => d.doc.customerId)).toEqual(['c4', 'c5']);
  expect((await store.get<SegmentTotalDoc>(SEGMENT_TOTALS, segmentTotalDocId('acme', 'pro')))?.doc.members).toBe(4);
  const days = await store.find<SegmentCountDoc>(SEGMENT_COUNTS, { workspaceId: 'acme', segmentId: 'pro' }, { orderBy: ['day'] });
  expect(days.map((d) => [d.doc.day, d.doc.entered, d.doc.left, d.doc.members])).toEqual([
    ['2026-03-01', 5, 0, 5],
    ['2026-03-02', 1, 2, 4],
  ]);
  expect(await store.countBy(SEGMENT_MEMBERS, 'segmentId', { workspaceId: 'acme', member: 1 })).toEqual([
    { value: 'pro', count: 4 },
    { value: 'quiet', count: 1 },
  ]);
}

describe('segment-members projection on SQLite', () => {
  it('keeps the members, the totals and the daily counts; a rebuild equals live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journey-segment-members-'));
    try {
      const events = new SqliteEventStore(openSqliteDatabase(join(dir, 'events.db'), { synchronous: 'NORMAL' }));
      const store = new SqliteReadModelStore(openSqliteDatabase(join(dir, 'read-models.db'), { synchronous: 'NORMAL' }));
      await project(events, store);
      await expectModel(store);
      expect(await rebuildProjection(events, store, segmentMembersProjection)).toMatchObject({
        identical: true,
        documents: { segment_members: 8, segment_counts: 4, segment_totals: 3 },
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeWithServer('segment-members projection on MongoDB', 'MONGODB_URL', (url) => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-segment-members-mongo-'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  let db: Db;
  afterAll(async () => {
    await db?.dropDatabase();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the same queries as SQLite, with its indexes, and a rebuild from zero equals live', async () => {
    db = client.db(`segment_members_${process.pid}`);
    const sqlite = openSqliteDatabase(join(dir, 'events.db'), { synchronous: 'NORMAL' });
    const events = new SqliteEventStore(sqlite);
    const store = new MongoReadModelStore(db);
    await project(events, store);
    await expectModel(store);
    const collections = (await db.collection('read_models').findOne({ _id: 'segment-members' } as never))!.collections as Record<
      string,
      string
    >;
    const indexes = (await db.collection(collections.segment_members).indexes()).map((i) => i.name);
    expect(indexes).toEqual(expect.arrayContaining(['workspaceId_segmentId_member_customerId']));
    expect(await rebuildProjection(events, store, segmentMembersProjection)).toMatchObject({
      identical: true,
      documents: { segment_members: 8, segment_counts: 4, segment_totals: 3 },
    });
    sqlite.close();
  });
});
