import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { customerStreamId, envelope, type EventDataByType, type EventType, type JourneyEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { describeWithServer } from '../../../integration/src/testing/servers';
import { MongoReadModelStore } from '../mongodb/mongo-read-model-store';
import { ProjectionRunner, rebuildProjection } from '../runner';
import { WORK, workProjection, type WorkDoc } from './work.projection';

let seq = 0;
function journey<T extends EventType>(customerId: string, type: T, data: EventDataByType[T], at: string): JourneyEvent {
  return envelope({
    id: `work-mongo-${++seq}`,
    type,
    data,
    workspaceId: 'acme',
    customerId,
    occurredAt: at,
    recordedAt: at,
    source: 'test',
  });
}

/** The work read model in MongoDB (FerretDB in CI): its documents, indexes, the queue's query and a rebuild. */
describeWithServer('work projection on MongoDB', 'MONGODB_URL', (url) => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-work-mongo-'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  let db: Db;
  afterAll(async () => {
    await db?.dropDatabase();
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('projects live, answers the queue in its order page by page, and a rebuild from zero equals live', async () => {
    db = client.db(`work_${process.pid}`);
    const sqlite = openSqliteDatabase(join(dir, 'events.db'), { synchronous: 'NORMAL' });
    const events = new SqliteEventStore(sqlite);
    const store = new MongoReadModelStore(db);
    const runner = new ProjectionRunner(workProjection, events, store, { batchSize: 4 });
    await runner.start();
    const history: JourneyEvent[] = [];
    for (let i = 0; i < 12; i++) {
      const c = `c${i}`;
      const at = `2026-03-02T10:${String(i).padStart(2, '0')}:00.000Z`;
      history.push(
        journey(c, 'ConversationStarted', { conversationId: `k${i}`, channel: 'email', subject: `S${i}` }, at),
        journey(c, 'CustomerReplied', { conversationId: `k${i}`, messageId: `m${i}`, channel: 'email', body: `hello ${i}` }, at),
        journey(
          c,
          'ConversationAssigned',
          {
            conversationId: `k${i}`,
            team: 't',
            assignee: i % 3 === 0 ? 'bea' : 'ann',
            priority: i % 2 ? 'urgent' : 'low',
            reason: 'manual',
          },
          at,
        ),
      );
      if (i % 4 === 0)
        history.push(
          journey(
            c,
            'TimerScheduled',
            {
              timerId: `sla-${i}`,
              dueAt: `2026-03-0${3 + (i % 5)}T00:00:00.000Z`,
              purpose: 'sla',
              payload: { subject: 'conversation', id: `k${i}`, target: 'first-response', team: 't', priority: 'low' },
            },
            at,
          ),
        );
      if (i === 5) history.push(journey(c, 'ConversationResolved', { conversationId: `k${i}`, by: 'ann' }, at));
    }
    history.push(journey('c8', 'TimerCancelled', { timerId: 'sla-8', reason: 'met' }, '2026-03-02T11:00:00.000Z'));
    for (const e of history) await events.appendToStream(customerStreamId('acme', e.metadata.customerId), [e]);
    await runner.waitFor(await events.headPosition());
    await runner.stop();

    const where = { workspaceId: 'acme', assignee: 'ann', open: 1 };
    const all = await store.find<WorkDoc>(WORK, where, { orderBy: ['sortKey'] });
    // k4 has a pending SLA due; k8's was cancelled; then urgent (odd) before low, oldest change first; k5 is resolved
    expect(all.map((d) => d.doc.itemId)).toEqual(['k4', 'k1', 'k7', 'k11', 'k2', 'k8', 'k10']);
    const pages: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.find<WorkDoc>(WORK, where, {
        orderBy: ['sortKey'],
        limit: 3,
        ...(after !== undefined && { after: { field: 'sortKey', value: after } }),
      });
      pages.push(...page.map((d) => d.doc.itemId));
      if (page.length < 3) break;
      after = page[page.length - 1].doc.sortKey;
    }
    expect(pages).toEqual(all.map((d) => d.doc.itemId));
    expect(await store.countBy(WORK, 'assignee', { workspaceId: 'acme', open: 1 })).toEqual([
      { value: 'ann', count: 7 },
      { value: 'bea', count: 4 },
    ]);
    const collections = (await db.collection('read_models').findOne({ _id: 'work' } as never))!.collections as Record<string, string>;
    const indexes = (await db.collection(collections.work).indexes()).map((i) => i.name);
    expect(indexes).toEqual(expect.arrayContaining(['workspaceId_assignee_open_sortKey', 'workspaceId_team_assignee_open_sortKey']));

    const report = await rebuildProjection(events, store, workProjection);
    expect(report).toMatchObject({
      identical: true,
      documents: { work: 12, work_customers: 12 },
      differences: { work: 0, work_customers: 0 },
    });
    sqlite.close();
  });
});
