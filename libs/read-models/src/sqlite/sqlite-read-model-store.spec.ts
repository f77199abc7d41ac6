import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, foldCustomer, STAGES, type CustomerState, type JourneyEvent, type Stage } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase, type SqliteDatabase } from '@journey/event-store';
import { CUSTOMERS, customerDocId, customersProjection, stageAnalyticsProjection, STAGE_TRANSITIONS } from '../projections';
import { ProjectionRunner, rebuildProjection } from '../runner';
import { SqliteReadModelStore } from './sqlite-read-model-store';

const dir = mkdtempSync(join(tmpdir(), 'journey-rm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function open(): { db: SqliteDatabase; events: SqliteEventStore; store: SqliteReadModelStore } {
  const db = openSqliteDatabase(join(dir, `rm-${++fileNo}.db`), { synchronous: 'NORMAL' });
  return { db, events: new SqliteEventStore(db), store: new SqliteReadModelStore(db) };
}

let n = 0;
function event(customerId: string, type: string, data: Record<string, unknown>, occurredAt = '2025-04-01T10:00:00.000Z'): JourneyEvent {
  n += 1;
  return { id: `ev-${n}`, type, data, metadata: { workspaceId: 'w', customerId, occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 } };
}

/** A seeded pseudo-random history: identifies, interactions, pages, stage changes, messages, tasks, late events. */
function randomHistory(count: number, customers: number, seed: number): JourneyEvent[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const stage = new Map<string, Stage | null>();
  const out: JourneyEvent[] = [];
  for (let i = 0; i < count; i++) {
    const c = `c${Math.floor(rnd() * customers)}`;
    const day = 1 + Math.floor(rnd() * 28);
    const at = `2025-05-${String(day).padStart(2, '0')}T${String(Math.floor(rnd() * 24)).padStart(2, '0')}:00:00.000Z`;
    const r = rnd();
    if (r < 0.1) out.push(event(c, 'CustomerIdentified', { userId: c, traits: { plan: pick(['free', 'pro']), n: i } }, at));
    else if (r < 0.45) out.push(event(c, 'InteractionRecorded', { event: pick(['A', 'B', 'C']), properties: { i } }, at));
    else if (r < 0.6) out.push(event(c, 'PageViewed', { kind: 'page', name: pick(['home', 'pricing']), properties: {} }, at));
    else if (r < 0.7) {
      const to = pick(STAGES);
      out.push(event(c, 'StageChanged', { from: stage.get(c) ?? null, to, reason: 'random' }, at));
      stage.set(c, to);
    } else if (r < 0.85) out.push(event(c, pick(['MessageScheduled', 'MessageSent', 'MessageDelivered', 'MessageFailed', 'MessageOpened']), { messageId: `m${i}`, channel: 'email' }, at));
    else if (r < 0.93) out.push(event(c, 'CsmTaskOpened', { taskId: `t${Math.floor(rnd() * 5)}`, title: 'x', priority: 'p' }, at));
    else out.push(event(c, 'CsmTaskClosed', { taskId: `t${Math.floor(rnd() * 5)}`, resolution: 'done' }, at));
  }
  return out;
}

async function appendAll(events: SqliteEventStore, history: JourneyEvent[]): Promise<void> {
  for (let i = 0; i < history.length; i += 200) {
    const chunk = history.slice(i, i + 200);
    await events.appendMany(chunk.map((e) => ({ streamId: customerStreamId('w', e.metadata.customerId), events: [e] })));
  }
}

/** What the customers read model must hold: each customer's stream folded from scratch. */
function expectedCustomers(history: JourneyEvent[]): Map<string, CustomerState> {
  const byCustomer = new Map<string, JourneyEvent[]>();
  for (const e of history) byCustomer.set(e.metadata.customerId, [...(byCustomer.get(e.metadata.customerId) ?? []), e]);
  return new Map([...byCustomer].map(([c, es]) => [c, foldCustomer('w', c, es)]));
}

describe('SqliteReadModelStore with ProjectionRunner', () => {
  it('projects live from the log and answers queries', async () => {
    const { events, store, db } = open();
    const runner = new ProjectionRunner(customersProjection, events, store, { batchSize: 7 });
    const analytics = new ProjectionRunner(stageAnalyticsProjection, events, store);
    await runner.start();
    await analytics.start();
    const history = [
      event('a', 'CustomerIdentified', { userId: 'a', traits: { plan: 'pro' } }),
      event('b', 'CustomerIdentified', { userId: 'b', traits: {} }),
      event('a', 'StageChanged', { from: 'onboarding', to: 'active', reason: 'r' }, '2025-04-02T08:00:00Z'),
      event('a', 'InteractionRecorded', { event: 'Report', properties: {} }),
      event('c', 'PageViewed', { kind: 'page', properties: {} }),
    ];
    await appendAll(events, history);
    const head = await events.headPosition();
    await runner.waitFor(head);
    await analytics.waitFor(head);
    const a = await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'a'));
    expect(a?.doc).toEqual(expectedCustomers(history).get('a'));
    expect(await store.countBy(CUSTOMERS, 'stage', { workspaceId: 'w' })).toEqual([
      { value: null, count: 1 },
      { value: 'active', count: 1 },
      { value: 'onboarding', count: 1 },
    ]);
    expect((await store.find(CUSTOMERS, { workspaceId: 'w', stage: 'onboarding' })).map((d) => d.id)).toEqual(['w/b']);
    expect((await store.find(STAGE_TRANSITIONS, { workspaceId: 'w' })).map((d) => d.doc)).toEqual([{ workspaceId: 'w', day: '2025-04-02', from: 'onboarding', to: 'active', count: 1 }]);
    expect(await store.checkpoint('customers')).toBe(head);
    await runner.stop();
    await analytics.stop();
    db.close();
  });

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
    await expect(store.applyBatch(customersProjection, batch)).rejects.toThrow('simulated crash');
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

  it('rebuilds from zero into fresh tables: rebuild == live on a random history, and readers never see a half-built model', async () => {
    const { events, store, db } = open();
    const history = randomHistory(3000, 60, 42);
    const runners = [customersProjection, stageAnalyticsProjection].map((p) => new ProjectionRunner(p, events, store, { batchSize: 97 }));
    for (const r of runners) await r.start();
    await appendAll(events, history);
    const head = await events.headPosition();
    for (const r of runners) await r.waitFor(head);

    const expected = expectedCustomers(history);
    const live = await store.find<CustomerState>(CUSTOMERS, { workspaceId: 'w' });
    expect(live.length).toBe(expected.size);
    for (const d of live) expect(d.doc).toEqual(expected.get(d.doc.customerId));

    // Half a rebuild: the live tables still answer in full.
    await store.startRebuild(customersProjection);
    await store.applyBatch(customersProjection, await events.readAll({ maxCount: 100 }), 'rebuild');
    expect((await store.find(CUSTOMERS, { workspaceId: 'w' })).length).toBe(expected.size);

    const report = await runners[0].rebuild();
    expect(report).toMatchObject({ projection: 'customers', position: head, identical: true, documents: { customers: expected.size }, differences: { customers: 0 } });
    const analytics = await runners[1].rebuild();
    expect(analytics.identical).toBe(true);
    const transitions = await store.find<{ count: number }>(STAGE_TRANSITIONS, { workspaceId: 'w' });
    expect(transitions.reduce((sum, t) => sum + t.doc.count, 0)).toBe(history.filter((e) => e.type === 'StageChanged').length);

    // A corrupted live model is detected by the comparison, and the rebuild repairs it.
    db.prepare(`UPDATE rm_customers SET doc = json_set(doc, '$.health', 999) WHERE id = ?`).run(customerDocId('w', 'c1'));
    const repaired = await runners[0].rebuild();
    expect(repaired.differences).toEqual({ customers: 1 });
    expect(repaired.identical).toBe(false);
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'c1')))?.doc).toEqual(expected.get('c1'));

    // Still live after the rebuilds.
    await appendAll(events, [event('c1', 'InteractionRecorded', { event: 'after', properties: {} })]);
    await runners[0].waitFor(await events.headPosition());
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'c1')))?.doc.interactions.byEvent.after).toBe(1);
    for (const r of runners) await r.stop();
    db.close();
  });

  it('rebuilds while another live runner keeps projecting new events (as the CLI does next to a running engine)', async () => {
    const { events, store, db } = open();
    const history = randomHistory(1500, 30, 7);
    await appendAll(events, history.slice(0, 1000));
    const runner = new ProjectionRunner(customersProjection, events, store, { batchSize: 13 });
    await runner.start();
    const [report] = await Promise.all([rebuildProjection(events, store, customersProjection, { batchSize: 50 }), appendAll(events, history.slice(1000))]);
    expect(report.identical).toBe(true);
    await runner.waitFor(await events.headPosition());
    const expected = expectedCustomers(history);
    const docs = await store.find<CustomerState>(CUSTOMERS, { workspaceId: 'w' });
    expect(docs.length).toBe(expected.size);
    for (const d of docs) expect(d.doc).toEqual(expected.get(d.doc.customerId));
    await runner.stop();
    db.close();
  });
});
