import { foldCustomer, type EventDataByType, type EventType, type RecordedEvent } from '@journey/domain';
import type { DocLookup, PutDoc, StoredDoc } from '../projection';
import { customerDocId, customersProjection, stageAnalyticsProjection, STAGE_TRANSITIONS } from '.';

let position = 0n;
function recorded<T extends EventType>(
  customerId: string,
  type: T,
  data: EventDataByType[T],
  occurredAt = '2025-03-01T12:00:00Z',
): RecordedEvent {
  position += 1n;
  return {
    id: `e${position}`,
    type,
    data: data as never,
    metadata: { workspaceId: 'w', customerId, occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
    streamId: `customer-w-${customerId}`,
    revision: 0n,
    position,
  };
}

/** Applies puts to an in-memory document map the way a store does (guarded by pos). */
function storeOf(puts: PutDoc[], into = new Map<string, StoredDoc>()): Map<string, StoredDoc> {
  for (const p of puts) {
    const key = `${p.collection}/${p.id}`;
    if ((into.get(key)?.pos ?? -1n) < p.pos) into.set(key, { id: p.id, pos: p.pos, doc: p.doc });
  }
  return into;
}
const lookupIn =
  (docs: Map<string, StoredDoc>): DocLookup =>
  (ref) =>
    docs.get(`${ref.collection}/${ref.id}`);

describe('customers projection', () => {
  const events = [
    recorded('a', 'CustomerIdentified', { userId: 'a', traits: { plan: 'pro' } }),
    recorded('b', 'InteractionRecorded', { event: 'x', properties: {} }),
    recorded('a', 'InteractionRecorded', { event: 'x', properties: {} }),
    { ...recorded('z', 'TriggerMatched', { triggerId: 't', version: 1, runId: 'r', causingEventId: 'e' }), streamId: 'trigger-w-t' },
  ];

  it('puts one document per customer, equal to folding its events, at the position of its last event', () => {
    const docs = storeOf(customersProjection.apply(events, () => undefined));
    expect([...docs.keys()].sort()).toEqual(['customers/w/a', 'customers/w/b']);
    expect(docs.get('customers/w/a')).toEqual({ id: 'w/a', pos: events[2].position, doc: foldCustomer('w', 'a', [events[0], events[2]]) });
    expect(customersProjection.reads(events)).toEqual([
      { collection: 'customers', id: customerDocId('w', 'a') },
      { collection: 'customers', id: customerDocId('w', 'b') },
    ]);
  });

  it('is idempotent: replaying a batch over documents that already include part of it changes nothing', () => {
    const once = storeOf(customersProjection.apply(events, () => undefined));
    const partial = storeOf(customersProjection.apply(events.slice(0, 2), () => undefined));
    const replayed = storeOf(customersProjection.apply(events, lookupIn(partial)), partial);
    expect(replayed).toEqual(once);
    expect(customersProjection.apply(events, lookupIn(once))).toEqual([]);
  });

  it('keeps ids unambiguous', () => {
    expect(customerDocId('a/b', 'c')).not.toBe(customerDocId('a', 'b/c'));
  });
});

describe('stage-analytics projection', () => {
  it('counts transitions per workspace, day (UTC, of the event time), from and to', () => {
    const events = [
      recorded('a', 'StageChanged', { from: null, to: 'onboarding', reason: 'identified' }, '2025-03-01T23:30:00-02:00'),
      recorded('b', 'StageChanged', { from: 'onboarding', to: 'active', reason: 'r' }, '2025-03-02T10:00:00Z'),
      recorded('c', 'StageChanged', { from: 'onboarding', to: 'active', reason: 'r' }, '2025-03-02T11:00:00Z'),
      recorded('c', 'InteractionRecorded', { event: 'x', properties: {} }),
    ];
    const docs = storeOf(stageAnalyticsProjection.apply(events, () => undefined));
    const transitions = [...docs.values()].map((d) => d.doc).sort((x, y) => String(x.day).localeCompare(String(y.day)));
    expect(transitions).toEqual([
      { workspaceId: 'w', day: '2025-03-02', from: null, to: 'onboarding', count: 1 },
      { workspaceId: 'w', day: '2025-03-02', from: 'onboarding', to: 'active', count: 2 },
    ]);
    expect(stageAnalyticsProjection.reads(events).every((r) => r.collection === STAGE_TRANSITIONS)).toBe(true);
    // replay of the same batch over its own result: no change
    expect(stageAnalyticsProjection.apply(events, lookupIn(docs))).toEqual([]);
  });
});
