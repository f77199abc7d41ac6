import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import type { CustomerState } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import { describeWithServer } from '../../../integration/src/testing/servers';
import { appendAll, event, expectedCustomers, randomHistory, readModelStoreContract } from '../contract/read-model-store.contract';
import {
  CUSTOMERS,
  customerDocId,
  customersProjection,
  stageAnalyticsProjection,
  STAGE_TRANSITIONS,
  type StageTransitionDoc,
} from '../projections';
import { ProjectionRunner } from '../runner';
import { CATALOG, MongoReadModelStore, type WriteGuard } from './mongo-read-model-store';

describeWithServer('MongoReadModelStore', 'MONGODB_URL', (url) => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-rm-mongo-'));
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 10_000 });
  const opened: Array<{ db: Db; close: () => void }> = [];
  let dbNo = 0;

  /** A fresh database (dropped afterwards) and a fresh SQLite event log. */
  function open(guard?: WriteGuard): { events: SqliteEventStore; store: MongoReadModelStore; db: Db } {
    const db = client.db(`rm_${process.pid}_${++dbNo}`);
    const sqlite = openSqliteDatabase(join(dir, `events-${dbNo}.db`), { synchronous: 'NORMAL' });
    opened.push({ db, close: () => sqlite.close() });
    return { events: new SqliteEventStore(sqlite), store: new MongoReadModelStore(db, undefined, guard), db };
  }

  afterEach(async () => {
    for (const o of opened.splice(0)) {
      o.close();
      await o.db.dropDatabase();
    }
  });
  afterAll(async () => {
    await client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('ReadModelStore contract', () => {
    readModelStoreContract(async () => {
      const { events, store, db } = open();
      return {
        events,
        store,
        corrupt: async (collection, id) => {
          const entry = await db.collection(CATALOG).findOne({ [`collections.${collection}`]: { $exists: true } });
          await db.collection(entry!.collections[collection]).updateOne({ _id: id } as never, { $set: { health: 999 } });
        },
        close: async () => undefined,
      };
    });
  });

  it('keeps the documented layout: a catalog per projection, documents with _id, _pos (int64) and top-level fields, the declared indexes', async () => {
    const { events, store, db } = open();
    await appendAll(events, [event('a', 'CustomerIdentified', { userId: 'a', traits: { 'plan.tier': 'pro' } })]);
    await store.prepare(customersProjection);
    await store.applyBatch(customersProjection, await events.readAll());
    const entry = await db.collection(CATALOG).findOne({ _id: 'customers' } as never, { useBigInt64: true });
    expect(entry).toEqual({ _id: 'customers', position: 1n, generation: 1, collections: { customers: 'customers__1' } });
    const raw = await db.collection('customers__1').findOne({ _id: customerDocId('w', 'a') } as never, { promoteLongs: false });
    expect(raw).toMatchObject({ _id: 'w/a', workspaceId: 'w', customerId: 'a', stage: 'onboarding', traits: { 'plan%2Etier': 'pro' } });
    expect(raw?._pos?._bsontype).toBe('Long');
    // the search index (deploy/mongodb.md): fields, terms as ordered strings, the traits' values for ordering
    expect(raw).toMatchObject({
      _s: { stage: 'onboarding', lastSeen: '2025-04-01T10:00:00.000Z', health: 60 },
      _t: ['traits:plan.tier\u0001spro'],
      _o: { 'traits:plan%2Etier': 'pro' },
    });
    expect(Object.fromEntries((await db.collection('customers__1').indexes()).map((i) => [i.name, i.key]))).toEqual({
      _id_: { _id: 1 },
      workspaceId_stage: { workspaceId: 1, stage: 1 },
      search_key: { workspaceId: 1, customerId: 1 },
      search_stage: { workspaceId: 1, '_s.stage': 1, customerId: 1 },
      search_lastSeen: { workspaceId: 1, '_s.lastSeen': 1, customerId: 1 },
      search_health: { workspaceId: 1, '_s.health': 1, customerId: 1 },
      search_terms: { workspaceId: 1, _t: 1, customerId: 1 },
    });
    // what the store answers leaves the index fields out
    expect(Object.keys((await store.get<Record<string, unknown>>(CUSTOMERS, customerDocId('w', 'a')))!.doc)).not.toContain('_t');
  });

  it.each<WriteGuard>(['client', 'server'])(
    'converges when the checkpoint write was lost after the documents were written (replay never double-counts; %s guard)',
    async (guard) => {
      const { events, store, db } = open(guard);
      const history = randomHistory(600, 20, 3);
      await appendAll(events, history);
      const all = await events.readAll();
      for (const p of [customersProjection, stageAnalyticsProjection]) {
        await store.prepare(p);
        await store.applyBatch(p, all.slice(0, 250));
        await store.applyBatch(p, all.slice(250, 400));
        // The crash: the documents of the second batch are written, its checkpoint is not.
        await db.collection(CATALOG).updateOne({ _id: p.name } as never, { $set: { position: all[249].position } });
      }
      const runners = [customersProjection, stageAnalyticsProjection].map((p) => new ProjectionRunner(p, events, store, { batchSize: 61 }));
      for (const r of runners) await r.start();
      for (const r of runners) await r.waitFor(all[all.length - 1].position);
      for (const r of runners) await r.stop();
      const expected = expectedCustomers(history);
      const docs = await store.find<CustomerState>(CUSTOMERS, { workspaceId: 'w' });
      expect(docs.length).toBe(expected.size);
      for (const d of docs) expect(d.doc).toEqual(expected.get(d.doc.customerId));
      const transitions = await store.find<StageTransitionDoc>(STAGE_TRANSITIONS, {});
      expect(transitions.reduce((sum, t) => sum + t.doc.count, 0)).toBe(history.filter((e) => e.type === 'StageChanged').length);
    },
  );

  it('takes an insert race as a guarded replace (E11000: the other writer got there first)', async () => {
    const { events, store, db } = open();
    await appendAll(events, [
      event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
      event('b', 'InteractionRecorded', { event: 'x', properties: {} }),
    ]);
    const all = await events.readAll();
    await store.prepare(customersProjection);
    // Another process inserted both documents after this store's read found nothing: 'a' older than the batch, 'b' newer.
    await db.collection('customers__1').insertMany([
      { _id: customerDocId('w', 'a'), _pos: 0n, workspaceId: 'w', customerId: 'a', stale: true },
      { _id: customerDocId('w', 'b'), _pos: 99n, workspaceId: 'w', customerId: 'b', newer: true },
    ] as never[]);
    const readBeforeTheirInsert = { ...customersProjection, reads: () => [] };
    await store.applyBatch(readBeforeTheirInsert, all);
    expect(await store.checkpoint(CUSTOMERS)).toBe(all[1].position);
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'a')))?.doc.interactions.total).toBe(1);
    expect((await store.get(CUSTOMERS, customerDocId('w', 'b')))?.doc).toMatchObject({ newer: true });
  });

  it('refuses to write a model that is not prepared, and a rebuild batch when no rebuild runs', async () => {
    const { events, store } = open();
    await appendAll(events, [event('a', 'InteractionRecorded', { event: 'x', properties: {} })]);
    const batch = await events.readAll();
    await expect(store.applyBatch(customersProjection, batch)).rejects.toThrow('read model customers is not prepared');
    await store.prepare(customersProjection);
    await expect(store.applyBatch(customersProjection, batch, 'rebuild')).rejects.toThrow('no rebuild in progress');
    expect(await store.find(CUSTOMERS, {})).toEqual([]);
  });
});
