import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CustomerState } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type SqliteDatabase } from '@journey/event-store';
import { appendAll, event, readModelStoreContract } from '../contract/read-model-store.contract';
import { CUSTOMERS, customerDocId, customersProjection } from '../projections';
import { ProjectionRunner } from '../runner';
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
    await expect(store.applyBatch(customersProjection, batch)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'simulated crash' });
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

  it('resumes after a failed batch from the stored checkpoint', async () => {
    const { events, store, db } = open();
    const errors: Error[] = [];
    const runner = new ProjectionRunner(customersProjection, events, store, { retryDelayMs: 20, onError: (e) => errors.push(e) });
    db.exec(`CREATE TEMP TRIGGER crash BEFORE INSERT ON main.checkpoints BEGIN SELECT RAISE(ABORT, 'disk on fire'); END;`);
    await runner.start();
    await appendAll(events, [event('a', 'InteractionRecorded', { event: 'x', properties: {} })]);
    for (let i = 0; i < 2000 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(runner.status().lastError).toBe('disk on fire');
    db.exec('DROP TRIGGER crash');
    await runner.waitFor(await events.headPosition());
    expect(runner.status().lastError).toBeUndefined();
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'a')))?.doc.interactions.total).toBe(1);
    await runner.stop();
    db.close();
  });
});
