import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { customerStreamId, deterministicId, envelope, type EventDataByType, type EventType } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ProjectionsService } from '../projections/projections.service';

const CSM = 'Bearer search-csm-key';
const ANALYST = 'Bearer search-analyst-key';
const OTHER_CSM = 'Bearer search-other-csm-key';
const OTHER_WRITE = 'Bearer search-other-write-key';

interface Item {
  customerId: string;
  stage: string | null;
  traits: Record<string, unknown>;
  segments: string[];
  health: number;
  lastSeen: string | null;
}
interface Page {
  items: Item[];
  nextCursor?: string;
  total?: number;
  totalCapped?: boolean;
}

const PLANS = ['free', 'pro', 'enterprise'];
/** Customer i of the workspace: its traits, its last activity, its stage and segments (all derived from i). */
const traitsOf = (i: number) => ({
  plan: PLANS[i % 3],
  seats: i % 4 === 0 ? String(i) : i, // some sent as numeric strings
  renewsAt: `2026-0${1 + (i % 9)}-15`,
  vip: i % 5 === 0,
  region: i % 2 === 0 ? 'eu' : 'us',
});
const lastSeenOf = (i: number) => `2026-02-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00.000Z`;
const N = 40;
const ids = Array.from({ length: N }, (_, i) => `cust-${String(i).padStart(2, '0')}`);

describe('GET /v1/customers: search over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;

  const search = async (query: string, auth = CSM): Promise<Page> => {
    const res = await http.get(`/v1/customers?${query}`).set('Authorization', auth);
    if (res.status !== 200) throw new Error(`GET /v1/customers?${query} -> ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Page;
  };
  /** Every page of a search, following nextCursor. */
  const all = async (query: string, auth = CSM): Promise<Item[]> => {
    const items: Item[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = await search(`${query}${cursor ? `&cursor=${cursor}` : ''}`, auth);
      items.push(...page.items);
      if (!page.nextCursor) return items;
      cursor = page.nextCursor;
    }
    throw new Error('too many pages');
  };
  const idsOf = (items: Item[]) => items.map((c) => c.customerId);
  const where = (keep: (i: number) => boolean) => ids.filter((_, i) => keep(i));

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-search-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'search-csm-key', workspaceId: 'default', role: 'csm' },
          { key: 'search-analyst-key', workspaceId: 'default', role: 'analyst' },
          { key: 'search-other-csm-key', workspaceId: 'other', role: 'csm' },
          { key: 'search-other-write-key', workspaceId: 'other', role: 'write' },
        ],
      }),
    );
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api,projector' } });
    http = request(engine.app.getHttpServer());
    // ingested over HTTP: an identify with traits and a track (the last activity) per customer
    const batch = ids.flatMap((id, i) => [
      { type: 'identify', userId: id, traits: traitsOf(i), messageId: `id-${id}`, timestamp: '2026-01-01T09:00:00.000Z' },
      { type: 'track', userId: id, event: 'Report Exported', messageId: `tr-${id}`, timestamp: lastSeenOf(i) },
    ]);
    await http.post('/v1/batch').set('Authorization', engine.auth.write).send({ batch }).expect(200);
    // the other workspace: the same ids and traits (its answers must never show up in ours)
    await http
      .post('/v1/batch')
      .set('Authorization', OTHER_WRITE)
      .send({
        batch: ids
          .slice(0, 10)
          .map((id, i) => ({ type: 'identify', userId: id, traits: { ...traitsOf(i), plan: 'pro' }, messageId: `o-${id}` })),
      })
      .expect(200);
    // stages and segment membership are the reactors' and the segments' events: appended as they would be
    const store = engine.app.get<EventStore>(EVENT_STORE);
    const make = <T extends EventType>(id: string, type: T, data: EventDataByType[T], n: number) =>
      envelope({
        id: deterministicId('search-e2e', id, type, n),
        type,
        data,
        workspaceId: 'default',
        customerId: id,
        occurredAt: '2026-01-02T00:00:00.000Z',
        recordedAt: '2026-01-02T00:00:00.000Z',
        source: 'test',
      });
    for (const [i, id] of ids.entries()) {
      const events = [];
      if (i % 3 === 1) events.push(make(id, 'StageChanged', { from: 'onboarding', to: 'active', reason: 'test' }, 0));
      if (i % 7 === 2) events.push(make(id, 'StageChanged', { from: 'onboarding', to: 'at-risk', reason: 'test' }, 1));
      if (i % 2 === 0) events.push(make(id, 'SegmentEntered', { segmentId: 'power-users', version: 1 }, 2));
      if (i % 6 === 0) events.push(make(id, 'SegmentLeft', { segmentId: 'power-users', version: 1, reason: 'conditions' }, 3));
      if (events.length) await store.appendToStream(customerStreamId('default', id), events);
    }
    await engine.app.get(ProjectionsService).waitForCatchUp();
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the workspace by id, page by page with the cursor, and counts only when asked', async () => {
    const first = await search('limit=15');
    expect(idsOf(first.items)).toEqual(ids.slice(0, 15));
    expect(first.total).toBeUndefined();
    expect(first.nextCursor).toEqual(expect.any(String));
    expect(idsOf(await all('limit=15'))).toEqual(ids);
    expect(idsOf(await all('limit=7&order=desc'))).toEqual([...ids].reverse());
    expect((await search('count=true&limit=1')).total).toBe(N);
    expect(await search('count=10&limit=1')).toMatchObject({ total: 10, totalCapped: true });
    expect(await search('count=100&limit=1')).toMatchObject({ total: N, totalCapped: false });
    const [ada] = (await search('idPrefix=cust-04&limit=1')).items;
    expect(ada).toEqual({
      customerId: 'cust-04',
      stage: 'active',
      stageSince: '2026-01-02T00:00:00.000Z',
      traits: traitsOf(4),
      accounts: [],
      segments: ['power-users'],
      health: 80,
      firstSeen: '2026-01-01T09:00:00.000Z',
      lastSeen: lastSeenOf(4),
    });
  });

  it('filters by id prefix, trait (equal and ranges: numbers, dates, booleans), stage, segment, last seen and health', async () => {
    expect(idsOf(await all('idPrefix=cust-1&limit=3'))).toEqual(ids.slice(10, 20));
    expect(idsOf(await all('trait.plan=pro&limit=4'))).toEqual(where((i) => i % 3 === 1));
    expect(idsOf(await all('trait.plan=pro&trait.region=eu&limit=4'))).toEqual(where((i) => i % 3 === 1 && i % 2 === 0));
    // numbers, whether sent as numbers or numeric strings
    expect(idsOf(await all('trait.seats.gte=10&trait.seats.lt=20&limit=4'))).toEqual(where((i) => i >= 10 && i < 20));
    expect(idsOf(await all('trait.seats=12'))).toEqual(['cust-12']);
    // dates: a time range (renewsAt 2026-0M-15)
    expect(idsOf(await all('trait.renewsAt.gte=2026-03-01&trait.renewsAt.lt=2026-05-01T00:00:00%2B00:00&limit=5'))).toEqual(
      where((i) => i % 9 === 2 || i % 9 === 3),
    );
    expect(idsOf(await all('trait.vip=true'))).toEqual(where((i) => i % 5 === 0));
    expect(idsOf(await all('stage=active'))).toEqual(where((i) => i % 3 === 1 && i % 7 !== 2));
    expect(idsOf(await all('stage=at-risk,active'))).toEqual(where((i) => i % 3 === 1 || i % 7 === 2));
    expect(idsOf(await all('segment=power-users&limit=6'))).toEqual(where((i) => i % 2 === 0 && i % 6 !== 0));
    const seen = (i: number) => lastSeenOf(i) > '2026-02-10T00:00:00.000Z' && lastSeenOf(i) < '2026-02-20T00:00:00.000Z';
    expect(idsOf(await all('lastSeen.after=2026-02-10&lastSeen.before=2026-02-20&limit=5'))).toEqual(where(seen));
    // health: onboarding 60, active 80, at-risk 30 (+1 per 10 interactions, none here)
    const health = (i: number) => (i % 7 === 2 ? 30 : i % 3 === 1 ? 80 : 60);
    expect(idsOf(await all('health.min=50&health.max=70'))).toEqual(where((i) => health(i) === 60));
    expect(idsOf(await all('health.max=40'))).toEqual(where((i) => health(i) === 30));
    const combined = await search('trait.region=eu&segment=power-users&health.min=60&count=true&limit=2');
    expect(combined.total).toBe(where((i) => i % 2 === 0 && i % 6 !== 0 && health(i) >= 60).length);
    expect((await search('trait.plan=nobody&count=true')).items).toEqual([]);
  });

  it('sorts by last seen, health and a trait, either way, paging through with the cursor', async () => {
    const byLastSeen = idsOf(await all('sort=lastSeen&limit=9'));
    expect(byLastSeen).toEqual(
      [...ids].sort((a, b) => lastSeenOf(+a.slice(5)).localeCompare(lastSeenOf(+b.slice(5))) || a.localeCompare(b)),
    );
    const byHealthDesc = await all('sort=health&order=desc&limit=6');
    expect(byHealthDesc.map((c) => c.health)).toEqual([...byHealthDesc.map((c) => c.health)].sort((a, b) => b - a));
    expect(byHealthDesc).toHaveLength(N);
    for (let i = 1; i < byHealthDesc.length; i++)
      if (byHealthDesc[i].health === byHealthDesc[i - 1].health)
        expect(byHealthDesc[i].customerId < byHealthDesc[i - 1].customerId).toBe(true);
    const bySeats = await all('sort=trait.seats&limit=8');
    expect(idsOf(bySeats)).toEqual(ids); // seats = i: numbers, whether sent as strings or not
    expect(idsOf(await all('sort=trait.seats&order=desc&trait.plan=free&limit=3'))).toEqual(where((i) => i % 3 === 0).reverse());
  });

  it('keeps the cursor stable while customers are added and changed between pages', async () => {
    const page1 = await search('trait.region=us&limit=5');
    expect(idsOf(page1.items)).toEqual(where((i) => i % 2 === 1).slice(0, 5));
    // meanwhile: a new customer before the cursor, one after it, and one that leaves the filter
    await http
      .post('/v1/batch')
      .set('Authorization', engine.auth.write)
      .send({
        batch: [
          { type: 'identify', userId: 'cust-00a', traits: { region: 'us' }, messageId: 'late-1' },
          { type: 'identify', userId: 'cust-99', traits: { region: 'us' }, messageId: 'late-2' },
          { type: 'identify', userId: 'cust-39', traits: { region: 'eu' }, messageId: 'late-3' },
        ],
      })
      .expect(200);
    await engine.app.get(ProjectionsService).waitForCatchUp();
    const rest: Item[] = [];
    for (let cursor = page1.nextCursor; cursor;) {
      const page = await search(`trait.region=us&limit=5&cursor=${cursor}`);
      rest.push(...page.items);
      cursor = page.nextCursor;
    }
    expect(idsOf(rest)).toEqual([...where((i) => i % 2 === 1 && i !== 39).slice(5), 'cust-99']);
  });

  it('keeps workspaces apart: the same ids and traits in another workspace are never found', async () => {
    const other = await all('trait.plan=pro', OTHER_CSM);
    expect(idsOf(other)).toEqual(ids.slice(0, 10));
    expect(idsOf(await all('trait.plan=pro&limit=50'))).not.toContain('cust-00');
    expect((await search('count=true', OTHER_CSM)).total).toBe(10);
    // a cursor of one workspace pages only the caller's own
    const page = await search('limit=5', OTHER_CSM);
    const next = await search(`limit=50&cursor=${page.nextCursor}`);
    expect(idsOf(next.items)[0]).toBe('cust-05');
    expect(next.items.find((c) => c.customerId === 'cust-05')?.traits.plan).toBe(traitsOf(5).plan);
  });

  it('lets admin, csm and analyst keys search, not write keys', async () => {
    await http.get('/v1/customers').set('Authorization', ANALYST).expect(200);
    await http.get('/v1/customers').set('Authorization', engine.auth.admin).expect(200);
    await http.get('/v1/customers').set('Authorization', engine.auth.write).expect(403);
    await http.get('/v1/customers').expect(401);
  });

  it('answers 400 naming the parameter for a bad one, and takes values as data', async () => {
    const cases: Array<[string, string]> = [
      ['nope=1', 'nope'],
      ['limit=0', 'limit'],
      ['limit=201', 'limit'],
      ['limit=x', 'limit'],
      ['stage=sleeping', 'stage'],
      ['sort=name', 'sort'],
      ['order=up', 'order'],
      ['health.min=101', 'health.min'],
      ['health.max=-1', 'health.max'],
      ['health.min=80&health.max=20', 'health.min'],
      ['lastSeen.after=yesterday', 'lastSeen.after'],
      ['lastSeen.before=2026-13-45', 'lastSeen.before'],
      ['trait.=x', 'trait.'],
      ['trait..gte=1', 'trait..gte'],
      ['trait.plan=', 'trait.plan'],
      ['trait.plan=a&trait.plan=b', 'trait.plan'],
      ['trait.seats.gte=1&trait.seats.lt=abc', 'trait.seats'],
      ['cursor=!!!', 'cursor'],
      ['cursor=eyJ4IjoxfQ', 'cursor'],
      ['count=maybe', 'count'],
      ['count=0', 'count'],
      ['idPrefix=', 'idPrefix'],
      ['segment=', 'segment'],
      [`idPrefix=${'x'.repeat(300)}`, 'idPrefix'],
    ];
    for (const [query, param] of cases) {
      const res = await http.get(`/v1/customers?${query}`).set('Authorization', CSM);
      expect([query, res.status]).toEqual([query, 400]);
      expect([query, String(res.body.message)]).toEqual([query, expect.stringContaining(param)]);
    }
    // a cursor of another order
    const { nextCursor } = await search('sort=health&limit=2');
    const res = await http.get(`/v1/customers?sort=lastSeen&cursor=${nextCursor}`).set('Authorization', CSM).expect(400);
    expect(res.body.message).toContain('cursor');
    // operators and SQL are values: they match nothing (and break nothing)
    for (const nasty of ["' OR '1'='1", '{"$ne":null}', '%24where', "x'); DROP TABLE rm_customers; --"]) {
      const q = encodeURIComponent(nasty);
      expect((await search(`trait.plan=${q}&idPrefix=${q}&count=true`)).total).toBe(0);
      expect((await search(`trait.${q}=1&count=true`)).total).toBe(0);
    }
    expect((await search('trait.plan[$ne]=x'.replace('[', '%5B').replace(']', '%5D') + '&count=true')).total).toBe(0);
    expect((await search('count=true')).total).toBeGreaterThanOrEqual(N);
  });
});
