import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CustomerState } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type SqliteDatabase } from '@journey/event-store';
import { appendAll, event, readModelStoreContract } from '../contract/read-model-store.contract';
import {
  CUSTOMERS,
  CUSTOMERS_COLLECTION,
  customerDocId,
  customersProjection,
  stageAnalyticsProjection,
  STAGE_TRANSITIONS,
} from '../projections';
import { ProjectionRunner, rebuildProjection } from '../runner';
import { SqliteReadModelStore } from './sqlite-read-model-store';

const dir = mkdtempSync(join(tmpdir(), 'journey-rm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function open(): { db: SqliteDatabase; events: SqliteEventStore; store: SqliteReadModelStore } {
  const db = openSqliteDatabase(join(dir, `rm-${++fileNo}.db`), { synchronous: 'NORMAL' });
  return { db, events: new SqliteEventStore(db), store: new SqliteReadModelStore(db) };
}

describe('SqliteReadModelStore: ReadModelStore contract', () => {
  readModelStoreContract(async () => {
    const { db, events, store } = open();
    return {
      events,
      store,
      corrupt: async (collection, id) => {
        db.prepare(`UPDATE rm_${collection} SET doc = json_set(doc, '$.health', 999) WHERE id = ?`).run(id);
      },
      close: async () => {
        db.close();
      },
    };
  });
});

describe('SqliteReadModelStore search index', () => {
  it('fills the index of a model written before it existed from the stored documents, once, in prepare', async () => {
    const { db, events, store } = open();
    await appendAll(events, [
      event('a', 'CustomerIdentified', { userId: 'a', traits: { plan: 'pro' } }),
      event('b', 'CustomerIdentified', { userId: 'b', traits: { plan: 'free' } }),
    ]);
    await store.prepare(customersProjection);
    await store.applyBatch(customersProjection, await events.readAll());
    db.exec('DROP TABLE rm_customers__search; DROP TABLE rm_customers__terms;'); // as a model of the version before
    const upgraded = new SqliteReadModelStore(db);
    await upgraded.prepare(customersProjection);
    const page = await upgraded.search(CUSTOMERS_COLLECTION, {
      partition: 'w',
      terms: [{ field: 'traits', name: 'plan', range: { eq: 'pro' } }],
      order: { by: 'key', direction: 'asc' },
      limit: 10,
      count: true,
    });
    expect(page.hits.map((h) => h.key)).toEqual(['a']);
    expect(page.total).toBe(1);
    expect((db.prepare('SELECT COUNT(*) AS n FROM rm_customers__terms').get() as { n: number }).n).toBe(2);
  });
});

describe('SqliteReadModelStore with ProjectionRunner', () => {
  it('stores the checkpoint atomically with the documents: a crash after apply leaves nothing partial, and replay counts right', async () => {
    const { events, store, db } = open();
    await store.prepare(customersProjection);
    const history = [
      event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
      event('b', 'InteractionRecorded', { event: 'x', properties: {} }),
      event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
    ];
    await appendAll(events, history);
    const batch = await events.readAll();
    // The crash: the checkpoint write fails after every document of the batch was written in the transaction.
    db.exec(`CREATE TEMP TRIGGER crash_insert BEFORE INSERT ON main.checkpoints BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;
             CREATE TEMP TRIGGER crash_update BEFORE UPDATE ON main.checkpoints BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;`);
    // Asserted by property, not toThrow: better-sqlite3's native addon keeps the SqliteError class of the first jest test
    // file that loaded it, so in later files (--runInBand) the error belongs to another realm and is not `instanceof Error`.
    await expect(store.applyBatch(customersProjection, batch)).rejects.toMatchObject({
      code: 'SQLITE_CONSTRAINT_TRIGGER',
      message: 'simulated crash',
    });
    expect(await store.get(CUSTOMERS, customerDocId('w', 'a'))).toBeUndefined();
    expect(await store.find(CUSTOMERS, {})).toEqual([]);
    expect(await store.checkpoint('customers')).toBe(0n);
    db.exec('DROP TRIGGER crash_insert; DROP TRIGGER crash_update;');
    // Restart: the runner replays from the checkpoint; a second delivery of the same batch is a no-op.
    const runner = new ProjectionRunner(customersProjection, events, store);
    await runner.start();
    await runner.waitFor(batch[2].position);
    await store.applyBatch(customersProjection, batch);
    const a = await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'a'));
    expect(a?.doc.interactions.total).toBe(2);
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'b')))?.doc.interactions.total).toBe(1);
    await runner.stop();
    db.close();
  });

  it('applies several projections in one transaction: a failure in one leaves every one as it was', async () => {
    const { events, store, db } = open();
    for (const p of [customersProjection, stageAnalyticsProjection]) await store.prepare(p);
    await appendAll(events, [
      event('a', 'StageChanged', { from: null, to: 'active', reason: 'r' }),
      event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
    ]);
    const batch = await events.readAll();
    db.exec(
      `CREATE TEMP TRIGGER crash BEFORE INSERT ON main.checkpoints WHEN NEW.name = '${stageAnalyticsProjection.name}' BEGIN SELECT RAISE(ABORT, 'simulated crash'); END;`,
    );
    await expect(store.applyBatches([customersProjection, stageAnalyticsProjection], batch)).rejects.toMatchObject({
      message: 'simulated crash',
    });
    expect(await store.find(CUSTOMERS, {})).toEqual([]);
    expect(await store.checkpoint(customersProjection.name)).toBe(0n);
    db.exec('DROP TRIGGER crash');
    expect(await store.applyBatches([customersProjection, stageAnalyticsProjection], batch)).toEqual([
      batch[1].position,
      batch[1].position,
    ]);
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'a')))?.doc.interactions.total).toBe(1);
    expect((await store.find<{ count: number }>(STAGE_TRANSITIONS, {})).map((d) => d.doc.count)).toEqual([1]);
    db.close();
  });

  it('compares documents, not their text, when a rebuild checks rebuild == live (key order aside)', async () => {
    const { events, store, db } = open();
    await store.prepare(customersProjection);
    await appendAll(events, [
      event('a', 'CustomerIdentified', { userId: 'a', traits: { plan: 'pro', seats: 3 } }),
      event('b', 'InteractionRecorded', { event: 'x', properties: {} }),
    ]);
    await store.applyBatch(customersProjection, await events.readAll());
    const reversed = (value: unknown): unknown =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([k, v]) => [k, reversed(v)]),
          )
        : value;
    const row = db.prepare<[string], { doc: string }>(`SELECT doc FROM rm_${CUSTOMERS} WHERE id = ?`).get(customerDocId('w', 'a'))!;
    const reordered = JSON.stringify(reversed(JSON.parse(row.doc)));
    expect(reordered).not.toBe(row.doc);
    db.prepare(`UPDATE rm_${CUSTOMERS} SET doc = ? WHERE id = ?`).run(reordered, customerDocId('w', 'a'));
    const report = await rebuildProjection(events, store, customersProjection);
    expect(report).toMatchObject({ identical: true, documents: { customers: 2 }, differences: { customers: 0 } });
    db.prepare(`DELETE FROM rm_${CUSTOMERS} WHERE id = ?`).run(customerDocId('w', 'b'));
    expect((await rebuildProjection(events, store, customersProjection)).differences).toEqual({ customers: 1 });
    db.close();
  });

  it('resumes after a failed batch from the stored checkpoint', async () => {
    const { events, store, db } = open();
    const errors: Error[] = [];
    const runner = new ProjectionRunner(customersProjection, events, store, { retryDelayMs: 20, onError: (e) => errors.push(e) });
    db.exec(`CREATE TEMP TRIGGER crash BEFORE INSERT ON main.checkpoints BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;`);
    await runner.start();
    await appendAll(events, [event('a', 'InteractionRecorded', { event: 'x', properties: {} })]);
    for (let i = 0; i < 2000 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(runner.status()[0].lastError).toBe('disk on fire');
    db.exec('DROP TRIGGER crash');
    await runner.waitFor(await events.headPosition());
    expect(runner.status()[0].lastError).toBeUndefined();
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'a')))?.doc.interactions.total).toBe(1);
    await runner.stop();
    db.close();
  });
});
