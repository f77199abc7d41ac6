import { customerStreamId, foldCustomer, type CustomerState, type JourneyEvent } from '@journey/domain';
import { CUSTOMERS_COLLECTION, customersProjection } from '../projections';
import { ProjectionRunner } from '../runner';
import {
  compareValues,
  prefixEnd,
  searchRecord,
  termOf,
  type SearchQuery,
  type SearchRecord,
  type SearchValue,
  type ValueRange,
} from '../search';
import type { ReadModelStoreFixture } from './read-model-store.contract';

let n = 0;
function ev(
  ws: string,
  customerId: string,
  type: string,
  data: Record<string, unknown>,
  occurredAt = '2025-04-01T10:00:00.000Z',
): JourneyEvent {
  n += 1;
  return {
    id: `search-ev-${n}`,
    type,
    data,
    metadata: { workspaceId: ws, customerId, occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
  };
}

const PLANS = ['free', 'pro', 'enterprise'];
const STAGES = ['onboarding', 'active', 'renewal', 'at-risk'];

/** A seeded history: identified customers with traits of every kind, stages, activity at many times, segments. */
export function searchHistory(ws: string, customers: number, seed: number): JourneyEvent[] {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const out: JourneyEvent[] = [];
  for (let i = 0; i < customers; i++) {
    const c = `c${String(i).padStart(3, '0')}`;
    const traits: Record<string, unknown> = {
      plan: PLANS[Math.floor(rnd() * 3)],
      seats: rnd() < 0.2 ? String(1 + Math.floor(rnd() * 100)) : 1 + Math.floor(rnd() * 100), // some as numeric strings
      signup: `2025-0${1 + Math.floor(rnd() * 6)}-1${Math.floor(rnd() * 9)}T0${Math.floor(rnd() * 9)}:00:00+02:00`,
      vip: rnd() < 0.3,
      mixed: rnd() < 0.5 ? Math.floor(rnd() * 10) : `m${Math.floor(rnd() * 10)}`,
      nested: { a: 1 },
    };
    if (rnd() < 0.2) delete traits.plan;
    out.push(ev(ws, c, 'CustomerIdentified', { userId: c, traits }));
    if (rnd() < 0.8) out.push(ev(ws, c, 'StageChanged', { from: 'onboarding', to: STAGES[Math.floor(rnd() * 4)], reason: 'r' }));
    const day = 1 + Math.floor(rnd() * 28);
    if (rnd() < 0.85)
      out.push(ev(ws, c, 'InteractionRecorded', { event: 'A', properties: {} }, `2025-05-${String(day).padStart(2, '0')}T10:00:00.000Z`));
    for (const segment of ['beta', 'churn-risk']) {
      if (rnd() < 0.4) {
        out.push(ev(ws, c, 'SegmentEntered', { segmentId: segment, version: 1 }));
        if (rnd() < 0.3) out.push(ev(ws, c, 'SegmentLeft', { segmentId: segment, version: 1, reason: 'conditions' }));
      }
    }
  }
  return out;
}

async function appendTo(fixture: ReadModelStoreFixture, history: JourneyEvent[]): Promise<void> {
  for (let i = 0; i < history.length; i += 200)
    await fixture.events.appendMany(
      history.slice(i, i + 200).map((e) => ({ streamId: customerStreamId(e.metadata.workspaceId, e.metadata.customerId), events: [e] })),
    );
}

function states(history: JourneyEvent[]): CustomerState[] {
  const by = new Map<string, JourneyEvent[]>();
  for (const e of history) {
    const k = `${e.metadata.workspaceId}/${e.metadata.customerId}`;
    by.set(k, [...(by.get(k) ?? []), e]);
  }
  return [...by.values()].map((es) => foldCustomer(es[0].metadata.workspaceId, es[0].metadata.customerId, es));
}

const inRange = (v: SearchValue | undefined, r: ValueRange): boolean => {
  if (v === undefined) return false;
  const same = (b: SearchValue) => typeof b === typeof v;
  if (r.eq !== undefined && v !== r.eq) return false;
  if (r.in !== undefined && !r.in.includes(v)) return false;
  if (r.gt !== undefined && !(same(r.gt) && compareValues(v, r.gt) > 0)) return false;
  if (r.gte !== undefined && !(same(r.gte) && compareValues(v, r.gte) >= 0)) return false;
  if (r.lt !== undefined && !(same(r.lt) && compareValues(v, r.lt) < 0)) return false;
  if (r.lte !== undefined && !(same(r.lte) && compareValues(v, r.lte) <= 0)) return false;
  return true;
};

/** The reference: what a search must answer, computed from the folded customers in memory (ids are ASCII here). */
function expected(all: CustomerState[], q: SearchQuery): string[] {
  const spec = CUSTOMERS_COLLECTION.search;
  const rows = all
    .filter((s) => s.workspaceId === q.partition)
    .map((s) => ({ s, r: searchRecord(spec, s as unknown as Record<string, unknown>) }));
  const termValue = (r: SearchRecord, t: string) => r.terms.filter((x) => x.t === t).map((x) => x.v);
  const matching = rows.filter(({ r }) => {
    if (q.keyPrefix && !r.key.startsWith(q.keyPrefix)) return false;
    for (const [f, range] of Object.entries(q.fields ?? {})) if (!inRange(r.fields[f], range)) return false;
    for (const t of q.terms ?? []) if (!termValue(r, termOf(t.field, t.name)).some((v) => inRange(v, t.range))) return false;
    if (q.order.by === 'term' && termValue(r, termOf(q.order.field, q.order.name)).length === 0) return false;
    return true;
  });
  const o = q.order;
  const value = (r: SearchRecord): SearchValue =>
    o.by === 'key' ? r.key : o.by === 'field' ? r.fields[o.field] : termValue(r, termOf(o.field, o.name))[0];
  const sign = o.direction === 'desc' ? -1 : 1;
  return matching.sort((a, b) => sign * (compareValues(value(a.r), value(b.r)) || compareValues(a.r.key, b.r.key))).map(({ r }) => r.key);
}

/** Every page, following the keyset from the last hit of each. */
async function pageThrough(fixture: ReadModelStoreFixture, q: SearchQuery): Promise<string[]> {
  const keys: string[] = [];
  let after: SearchQuery['after'];
  for (let pages = 0; pages < 1000; pages++) {
    const page = await fixture.store.search<CustomerState>(CUSTOMERS_COLLECTION, { ...q, after });
    for (const h of page.hits) {
      expect(h.doc.workspaceId).toBe(q.partition);
      expect(h.key).toBe(h.doc.customerId);
      keys.push(h.key);
    }
    if (!page.more) return keys;
    const last = page.hits[page.hits.length - 1];
    after = { value: last.sortValue, key: last.key };
  }
  throw new Error('too many pages');
}

/** The search capability of a store (customers: `GET /v1/customers?…`), checked against the in-memory reference. */
export function searchContract(fresh: () => Promise<ReadModelStoreFixture>): void {
  describe('search', () => {
    const base = (q: Partial<SearchQuery>): SearchQuery => ({ partition: 'w', order: { by: 'key', direction: 'asc' }, limit: 7, ...q });
    const queries: Array<[string, Partial<SearchQuery>]> = [
      ['everyone, by id', {}],
      ['everyone, by id descending', { order: { by: 'key', direction: 'desc' } }],
      ['an id prefix', { keyPrefix: 'c01' }],
      ['an id prefix, descending', { keyPrefix: 'c0', order: { by: 'key', direction: 'desc' }, limit: 13 }],
      ['a trait equal', { terms: [{ field: 'traits', name: 'plan', range: { eq: 'pro' } }] }],
      ['a boolean trait', { terms: [{ field: 'traits', name: 'vip', range: { eq: 'true' } }] }],
      ['a number range (numeric strings too)', { terms: [{ field: 'traits', name: 'seats', range: { gte: 10, lt: 50 } }] }],
      ['a date range (offsets normalised)', { terms: [{ field: 'traits', name: 'signup', range: { gte: '2025-03-01T00:00:00.000Z' } }] }],
      ['a string range on a mixed trait', { terms: [{ field: 'traits', name: 'mixed', range: { gte: 'm3' } }] }],
      ['a number range on a mixed trait', { terms: [{ field: 'traits', name: 'mixed', range: { lte: 4 } }] }],
      ['a stage', { fields: { stage: { in: ['active', 'renewal'] } } }],
      ['a segment', { terms: [{ field: 'segments', range: { eq: 'beta' } }] }],
      [
        'two segments',
        {
          terms: [
            { field: 'segments', range: { eq: 'beta' } },
            { field: 'segments', range: { eq: 'churn-risk' } },
          ],
        },
      ],
      ['last seen between', { fields: { lastSeen: { gt: '2025-05-05T00:00:00.000Z', lt: '2025-05-20T00:00:00.000Z' } } }],
      ['health between', { fields: { health: { gte: 60, lte: 80 } } }],
      [
        'all of them, by health descending',
        {
          keyPrefix: 'c',
          fields: { health: { gte: 20 }, stage: { in: ['active', 'renewal', 'at-risk', 'onboarding'] } },
          terms: [
            { field: 'traits', name: 'plan', range: { in: ['pro', 'enterprise'] } },
            { field: 'segments', range: { eq: 'beta' } },
          ],
          order: { by: 'field', field: 'health', direction: 'desc' },
          limit: 3,
        },
      ],
      ['by last seen', { order: { by: 'field', field: 'lastSeen', direction: 'asc' } }],
      [
        'by last seen descending, in a segment',
        { terms: [{ field: 'segments', range: { eq: 'beta' } }], order: { by: 'field', field: 'lastSeen', direction: 'desc' } },
      ],
      ['by a number trait', { order: { by: 'term', field: 'traits', name: 'seats', direction: 'asc' } }],
      ['by a mixed trait descending', { order: { by: 'term', field: 'traits', name: 'mixed', direction: 'desc' }, limit: 4 }],
      [
        'by a trait, filtered on it and another',
        {
          terms: [
            { field: 'traits', name: 'seats', range: { gt: 20 } },
            { field: 'traits', name: 'plan', range: { eq: 'pro' } },
          ],
          order: { by: 'term', field: 'traits', name: 'seats', direction: 'desc' },
          limit: 2,
        },
      ],
      ['another workspace', { partition: 'w2', terms: [{ field: 'traits', name: 'plan', range: { eq: 'pro' } }] }],
      ['nothing matches', { terms: [{ field: 'traits', name: 'plan', range: { eq: 'no such plan' } }] }],
    ];

    it('answers every filter, order and page as the reference does, inside one workspace, and counts when asked', async () => {
      const fixture = await fresh();
      const history = [...searchHistory('w', 80, 11), ...searchHistory('w2', 30, 12)];
      await appendTo(fixture, history);
      await fixture.store.prepare(customersProjection);
      await fixture.store.applyBatch(customersProjection, await fixture.events.readAll());
      const all = states(history);
      for (const [what, q] of queries) {
        const want = expected(all, base(q));
        expect([what, await pageThrough(fixture, base(q))]).toEqual([what, want]);
        const counted = await fixture.store.search(CUSTOMERS_COLLECTION, { ...base(q), count: true });
        expect([what, counted.total]).toEqual([what, want.length]);
        const bounded = await fixture.store.search(CUSTOMERS_COLLECTION, { ...base(q), count: 5 });
        expect([what, bounded.total, bounded.totalCapped]).toEqual([what, Math.min(5, want.length), want.length > 5]);
      }
      // the reference is not vacuous
      expect(expected(all, base(queries[4][1])).length).toBeGreaterThan(10);
      expect(expected(all, base({ partition: 'w2' })).length).toBe(30);
      // values are data: operators, quotes and SQL in names and values find nothing and break nothing
      for (const nasty of ["' OR 1=1 --", '{"$gt": ""}', '$where', 'x"); DROP TABLE rm_customers; --']) {
        const page = await fixture.store.search(CUSTOMERS_COLLECTION, {
          ...base({}),
          keyPrefix: nasty,
          terms: [{ field: 'traits', name: nasty, range: { eq: nasty } }],
          count: true,
        });
        expect(page).toMatchObject({ hits: [], more: false, total: 0 });
      }
      expect((await fixture.store.search(CUSTOMERS_COLLECTION, { ...base({}), count: true })).total).toBe(80);
      await expect(
        fixture.store.search(CUSTOMERS_COLLECTION, {
          ...base({}),
          terms: [{ field: 'traits', name: 'plan', range: { eq: { $ne: 1 } as never } }],
        }),
      ).rejects.toThrow(/strings or numbers/);
    });

    it('keeps the index with the documents live (a changed trait, a left segment), and a rebuild from zero gives the same index', async () => {
      const fixture = await fresh();
      const runner = new ProjectionRunner(customersProjection, fixture.events, fixture.store, { batchSize: 50 });
      await runner.start();
      try {
        const history = searchHistory('w', 60, 5);
        await appendTo(fixture, history);
        const later = [
          ev('w', 'c001', 'TraitsUpdated', { traits: { plan: 'moved', seats: 7 } }),
          ev('w', 'c002', 'SegmentEntered', { segmentId: 'beta', version: 2 }),
          ev('w', 'c002', 'SegmentLeft', { segmentId: 'beta', version: 2, reason: 'conditions' }),
          ev('w', 'c003', 'SegmentEntered', { segmentId: 'beta', version: 2 }),
          ev('w', 'c004', 'CustomerForgotten', {}),
        ];
        await appendTo(fixture, later);
        await runner.waitFor(await fixture.events.headPosition(), 25_000);
        const all = states([...history, ...later]);
        const check = async () => {
          for (const [what, q] of queries.slice(0, 21))
            expect([what, await pageThrough(fixture, base(q))]).toEqual([what, expected(all, base(q))]);
        };
        await check();
        const moved = await pageThrough(fixture, base({ terms: [{ field: 'traits', name: 'plan', range: { eq: 'moved' } }] }));
        expect(moved).toEqual(['c001']);
        const beta = await pageThrough(fixture, base({ terms: [{ field: 'segments', range: { eq: 'beta' } }] }));
        expect(beta).toContain('c003');
        expect(beta).not.toContain('c002');
        const report = await runner.rebuild();
        expect(report).toMatchObject({ identical: true, differences: { customers: 0 } });
        await check();
        expect(prefixEnd('c0')).toBe('c1');
      } finally {
        await runner.stop();
      }
    });
  });
}
