import { customerStreamId, foldCustomer, STAGES, type CustomerState, type JourneyEvent, type Stage } from '@journey/domain';
import { listDeadLetters, requestDeadLetterRetry, type EventStore } from '@journey/event-store';
import type { Projection } from '../projection';
import {
  CUSTOMERS,
  customerDocId,
  customersProjection,
  stageAnalyticsProjection,
  STAGE_TRANSITIONS,
  type StageTransitionDoc,
} from '../projections';
import { ProjectionRunner, rebuildProjection } from '../runner';
import type { ReadModelStore } from '../store.port';
import { searchContract } from './search.contract';

/** What the contract needs from an adapter: a fresh, empty store next to an event log. */
export interface ReadModelStoreFixture {
  events: EventStore;
  store: ReadModelStore;
  /** Changes a live document behind the store's back (a rebuild must detect and repair it). */
  corrupt(collection: string, id: string): Promise<void>;
  close(): Promise<void>;
}

let n = 0;
export function event(
  customerId: string,
  type: string,
  data: Record<string, unknown>,
  occurredAt = '2025-04-01T10:00:00.000Z',
): JourneyEvent {
  n += 1;
  return {
    id: `ev-${n}`,
    type,
    data,
    metadata: { workspaceId: 'w', customerId, occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
  };
}

/** A seeded pseudo-random history: identifies, interactions, pages, stage changes, messages, tasks, late events. */
export function randomHistory(count: number, customers: number, seed: number): JourneyEvent[] {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
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
    } else if (r < 0.85)
      out.push(
        event(
          c,
          pick(['MessageScheduled', 'MessageSent', 'MessageDelivered', 'MessageFailed', 'MessageOpened']),
          { messageId: `m${i}`, channel: 'email' },
          at,
        ),
      );
    else if (r < 0.93) out.push(event(c, 'CsmTaskOpened', { taskId: `t${Math.floor(rnd() * 5)}`, title: 'x', priority: 'p' }, at));
    else out.push(event(c, 'CsmTaskClosed', { taskId: `t${Math.floor(rnd() * 5)}`, resolution: 'done' }, at));
  }
  return out;
}

export async function appendAll(events: EventStore, history: JourneyEvent[]): Promise<void> {
  for (let i = 0; i < history.length; i += 200) {
    const chunk = history.slice(i, i + 200);
    await events.appendMany(chunk.map((e) => ({ streamId: customerStreamId('w', e.metadata.customerId), events: [e] })));
  }
}

/** What the customers read model must hold: each customer's stream folded from scratch. */
export function expectedCustomers(history: JourneyEvent[]): Map<string, CustomerState> {
  const byCustomer = new Map<string, JourneyEvent[]>();
  for (const e of history) byCustomer.set(e.metadata.customerId, [...(byCustomer.get(e.metadata.customerId) ?? []), e]);
  return new Map([...byCustomer].map(([c, es]) => [c, foldCustomer('w', c, es)]));
}

/** The ReadModelStore contract: every adapter runs it (DESIGN.md: one contract suite per port). */
export function readModelStoreContract(open: () => Promise<ReadModelStoreFixture>): void {
  let fixture: ReadModelStoreFixture | undefined;
  const fresh = async () => (fixture = await open());
  afterEach(async () => {
    await fixture?.close();
    fixture = undefined;
  });

  it('projects live from the log and answers queries', async () => {
    const { events, store } = await fresh();
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
    expect(a?.pos).toBe(head - 1n);
    expect(await store.get(CUSTOMERS, customerDocId('w', 'nobody'))).toBeUndefined();
    expect(await store.countBy(CUSTOMERS, 'stage', { workspaceId: 'w' })).toEqual([
      { value: null, count: 1 },
      { value: 'active', count: 1 },
      { value: 'onboarding', count: 1 },
    ]);
    expect((await store.find(CUSTOMERS, { workspaceId: 'w', stage: 'onboarding' })).map((d) => d.id)).toEqual(['w/b']);
    expect((await store.find(CUSTOMERS, { workspaceId: 'w' }, { limit: 2 })).map((d) => d.id)).toEqual(['w/a', 'w/b']);
    // keyset paging: after a value of a field, in its order
    expect(
      (await store.find(CUSTOMERS, { workspaceId: 'w' }, { orderBy: ['customerId'], after: { field: 'customerId', value: 'a' } })).map(
        (d) => d.id,
      ),
    ).toEqual(['w/b', 'w/c']);
    expect(
      (
        await store.find(CUSTOMERS, { workspaceId: 'w' }, { orderBy: ['customerId'], after: { field: 'customerId', value: 'b' }, limit: 5 })
      ).map((d) => d.id),
    ).toEqual(['w/c']);
    expect(await store.find(CUSTOMERS, { customerId: 'a' }, { after: { field: 'customerId', value: 'a' } })).toEqual([]);
    expect((await store.find(STAGE_TRANSITIONS, { workspaceId: 'w' })).map((d) => d.doc)).toEqual([
      { workspaceId: 'w', day: '2025-04-02', from: 'onboarding', to: 'active', count: 1 },
    ]);
    expect(await store.checkpoint('customers')).toBe(head);
    await runner.stop();
    await analytics.stop();
  });

  it('stores documents as they are: keys with dots, dollars and percent signs, nested values, absent optionals', async () => {
    const { events, store } = await fresh();
    const traits = { 'a.b': 1, $c: 'x', '%2E': true, nested: { 'd.e': [1, { $f: null }] }, plain: 'p' };
    await appendAll(events, [
      event('x', 'CustomerIdentified', { userId: 'x', traits }),
      event('x', 'InteractionRecorded', { event: 'page.view $1', properties: {} }),
      event('x', 'CsmTaskOpened', { taskId: 't', title: 'call', priority: 'p' }),
    ]);
    await store.prepare(customersProjection);
    await store.applyBatch(customersProjection, await events.readAll());
    const x = await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'x'));
    expect(x?.doc.traits).toEqual(traits);
    expect(x?.doc.interactions.byEvent).toEqual({ 'page.view $1': 1 });
    expect(x?.doc).toEqual(JSON.parse(JSON.stringify(foldCustomer('w', 'x', (await events.readAll()) as JourneyEvent[]))));
  });

  it('applies a replayed or overlapping batch only once (counters stay right)', async () => {
    const { events, store } = await fresh();
    const day = '2025-04-03T09:00:00Z';
    await appendAll(events, [
      event('a', 'StageChanged', { from: null, to: 'active', reason: 'r' }, day),
      event('b', 'StageChanged', { from: null, to: 'active', reason: 'r' }, day),
      event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
      event('c', 'StageChanged', { from: null, to: 'active', reason: 'r' }, day),
    ]);
    const all = await events.readAll();
    for (const p of [customersProjection, stageAnalyticsProjection]) {
      await store.prepare(p);
      expect(await store.applyBatch(p, all.slice(0, 3))).toBe(all[2].position);
      expect(await store.applyBatch(p, all.slice(0, 3))).toBe(all[2].position);
      expect(await store.applyBatch(p, all.slice(1))).toBe(all[3].position);
      expect(await store.applyBatch(p, all)).toBe(all[3].position);
    }
    const [transitions] = await store.find<StageTransitionDoc>(STAGE_TRANSITIONS, { workspaceId: 'w', day: '2025-04-03' });
    expect(transitions.doc.count).toBe(3);
    expect(transitions.pos).toBe(all[3].position);
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'a')))?.doc.interactions.total).toBe(1);
    expect(await store.checkpoint(stageAnalyticsProjection.name)).toBe(all[3].position);
  });

  it('quarantines an event the projection rejects, projects the other customers, and applies it on retry once fixed', async () => {
    const { events, store } = await fresh();
    let broken = true;
    const picky: Projection = {
      ...customersProjection,
      apply: (batch, docs) => {
        if (broken && batch.some((e) => e.metadata.customerId === 'bad' && e.streamId.startsWith('customer-')))
          throw new TypeError('cannot project bad');
        return customersProjection.apply(batch, docs);
      },
    };
    const runner = new ProjectionRunner(picky, events, store, { retryDelayMs: 1, maxRetryDelayMs: 5, coalesceMs: 0 });
    await runner.start();
    try {
      await appendAll(events, [
        event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
        event('bad', 'InteractionRecorded', { event: 'x', properties: {} }),
        event('b', 'InteractionRecorded', { event: 'x', properties: {} }),
      ]);
      const waitForLetter = async (status: string) => {
        for (let i = 0; i < 500; i++) {
          const letters = await listDeadLetters(events, 'w');
          if (letters[0]?.status === status) return letters[0];
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`no dead letter ${status}: ${JSON.stringify(await listDeadLetters(events, 'w'))}`);
      };
      const letter = await waitForLetter('quarantined');
      expect(letter).toMatchObject({
        subscriber: 'projections',
        customerId: 'bad',
        reason: 'TypeError',
        error: 'cannot project bad',
        attempts: 3,
      });
      await appendAll(events, [event('c', 'InteractionRecorded', { event: 'x', properties: {} })]);
      await runner.waitFor(await events.headPosition());
      for (const c of ['a', 'b', 'c'])
        expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', c)))?.doc.interactions.total).toBe(1);
      expect(await store.get(CUSTOMERS, customerDocId('w', 'bad'))).toBeUndefined();
      expect(runner.status()[0].lastError).toBeUndefined();

      broken = false;
      await requestDeadLetterRetry(events, 'w', letter.id, 'test');
      await waitForLetter('resolved');
      expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'bad')))?.doc.interactions.total).toBe(1);
      // A replay leaves the checkpoint where it was (beyond the event).
      await runner.waitFor(await events.headPosition());
      expect(await store.checkpoint(customersProjection.name)).toBe(await events.headPosition());
    } finally {
      await runner.stop();
    }
  });

  it('applies one batch to several projections, each from its own checkpoint', async () => {
    const { events, store } = await fresh();
    const history = [
      event('a', 'StageChanged', { from: null, to: 'active', reason: 'r' }, '2025-04-03T09:00:00Z'),
      event('a', 'InteractionRecorded', { event: 'x', properties: {} }),
      event('b', 'StageChanged', { from: null, to: 'active', reason: 'r' }, '2025-04-03T10:00:00Z'),
    ];
    await appendAll(events, history);
    const all = await events.readAll();
    for (const p of [customersProjection, stageAnalyticsProjection]) await store.prepare(p);
    expect(await store.applyBatch(customersProjection, all.slice(0, 2))).toBe(all[1].position);
    expect(await store.applyBatches([customersProjection, stageAnalyticsProjection], all)).toEqual([all[2].position, all[2].position]);
    expect(await store.applyBatches([customersProjection, stageAnalyticsProjection], all.slice(1))).toEqual([
      all[2].position,
      all[2].position,
    ]);
    const expected = expectedCustomers(history);
    for (const c of ['a', 'b']) expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', c)))?.doc).toEqual(expected.get(c));
    const [transitions] = await store.find<StageTransitionDoc>(STAGE_TRANSITIONS, { workspaceId: 'w', day: '2025-04-03' });
    expect(transitions.doc.count).toBe(2);
  });

  it('rebuilds from zero into fresh collections: rebuild == live on a random history, and readers never see a half-built model', async () => {
    const { events, store, corrupt } = await fresh();
    const history = randomHistory(900, 30, 42);
    // One runner for both projections (as the engine runs them): one subscription, one store call per batch.
    const runner = new ProjectionRunner([customersProjection, stageAnalyticsProjection], events, store, { batchSize: 150 });
    await runner.start();
    await appendAll(events, history);
    const head = await events.headPosition();
    await runner.waitFor(head, 25_000);
    expect(runner.status().map((s) => [s.name, s.position])).toEqual([
      [customersProjection.name, head],
      [stageAnalyticsProjection.name, head],
    ]);

    const expected = expectedCustomers(history);
    const live = await store.find<CustomerState>(CUSTOMERS, { workspaceId: 'w' });
    expect(live.length).toBe(expected.size);
    for (const d of live) expect(d.doc).toEqual(expected.get(d.doc.customerId));

    // Half a rebuild: the live model still answers in full.
    await store.startRebuild(customersProjection);
    await store.applyBatch(customersProjection, await events.readAll({ maxCount: 100 }), 'rebuild');
    expect(await store.checkpoint(CUSTOMERS, 'rebuild')).toBeGreaterThan(0n);
    expect((await store.find(CUSTOMERS, { workspaceId: 'w' })).length).toBe(expected.size);
    expect(await store.finishRebuild(customersProjection, head)).toBeUndefined();

    const report = await runner.rebuild({ projection: customersProjection.name });
    expect(report).toMatchObject({
      projection: 'customers',
      position: head,
      identical: true,
      documents: { customers: expected.size },
      differences: { customers: 0 },
    });
    const analytics = await runner.rebuild({ projection: stageAnalyticsProjection.name });
    expect(analytics.identical).toBe(true);
    const transitions = await store.find<{ count: number }>(STAGE_TRANSITIONS, { workspaceId: 'w' });
    expect(transitions.reduce((sum, t) => sum + t.doc.count, 0)).toBe(history.filter((e) => e.type === 'StageChanged').length);

    // A corrupted live model is detected by the comparison, and the rebuild repairs it.
    await corrupt(CUSTOMERS, customerDocId('w', 'c1'));
    const repaired = await runner.rebuild({ projection: customersProjection.name });
    expect(repaired.differences).toEqual({ customers: 1 });
    expect(repaired.identical).toBe(false);
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'c1')))?.doc).toEqual(expected.get('c1'));

    // Still live after the rebuilds.
    await appendAll(events, [event('c1', 'InteractionRecorded', { event: 'after', properties: {} })]);
    await runner.waitFor(await events.headPosition(), 25_000);
    expect((await store.get<CustomerState>(CUSTOMERS, customerDocId('w', 'c1')))?.doc.interactions.byEvent.after).toBe(1);
    expect(await store.checkpoint(stageAnalyticsProjection.name)).toBe(await events.headPosition());
    await runner.stop();
  });

  it('rebuilds while another live runner keeps projecting new events (as the CLI does next to a running engine)', async () => {
    const { events, store } = await fresh();
    const history = randomHistory(900, 30, 7);
    await appendAll(events, history.slice(0, 600));
    const runner = new ProjectionRunner(customersProjection, events, store, { batchSize: 60, retryDelayMs: 20 });
    await runner.start();
    const [report] = await Promise.all([
      rebuildProjection(events, store, customersProjection, { batchSize: 150 }),
      appendAll(events, history.slice(600)),
    ]);
    expect(report.identical).toBe(true);
    await runner.waitFor(await events.headPosition(), 25_000);
    const expected = expectedCustomers(history);
    const docs = await store.find<CustomerState>(CUSTOMERS, { workspaceId: 'w' });
    expect(docs.length).toBe(expected.size);
    for (const d of docs) expect(d.doc).toEqual(expected.get(d.doc.customerId));
    await runner.stop();
  });

  searchContract(fresh);
}
