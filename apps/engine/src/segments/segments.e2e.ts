import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';

const CSM = 'Bearer csm-key-segments';
const ANALYST = 'Bearer analyst-key-segments';
const OTHER = 'Bearer other-ws-csm-segments';
const DAY_MS = 86_400_000;
/** How long after the test's start the Feature Used events leave the 7-day window (real time passing). */
const EXPIRES_IN_MS = 10_000;

const ACTIVE_PRO = {
  name: 'Active pro customers',
  conditions: { all: [{ traits: { plan: 'pro' } }, { count: { event: 'Feature Used', within: '7d', gte: 3 } }] },
};

interface Entry {
  type: string;
  kind: string;
  summary: string;
  details: Record<string, unknown>;
}

describe('segments over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-segments-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'csm-key-segments', workspaceId: 'default', role: 'csm' },
          { key: 'analyst-key-segments', workspaceId: 'default', role: 'analyst' },
          { key: 'other-ws-csm-segments', workspaceId: 'other', role: 'csm' },
        ],
      }),
    );
    engine = await startEngine({ dataDir });
    http = request(engine.app.getHttpServer());
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const timeline = async (customerId: string): Promise<Entry[]> =>
    (await http.get(`/v1/customers/${customerId}/timeline`).set('Authorization', CSM).expect(200)).body.entries;
  const ingest = (batch: unknown[]) => http.post('/v1/batch').set('Authorization', engine.auth.write).send({ batch }).expect(200);

  it('refuses an invalid document with every error, each naming its path; analysts read but do not define', async () => {
    const res = await http
      .put('/v1/segments/active-pro')
      .set('Authorization', CSM)
      .send({ name: '', conditions: { all: [{ event: 'Clicked' }, { count: { event: 'X', within: 'soon', gte: 1 } }] } })
      .expect(400);
    expect(res.body.errors).toEqual([
      'name: expected a non-empty string, got ""',
      expect.stringMatching(/^conditions\.all\[0\]\.event: not allowed in a segment: an event is a moment/),
      'conditions.all[1].count.within: expected a duration like "3d", got "soon"',
    ]);
    await http.put('/v1/segments/active-pro').set('Authorization', ANALYST).send(ACTIVE_PRO).expect(403);
    await http
      .put('/v1/segments/other-id')
      .set('Authorization', CSM)
      .send({ ...ACTIVE_PRO, id: 'active-pro' })
      .expect(400);
    await http.get('/v1/segments/active-pro').set('Authorization', ANALYST).expect(404);
  });

  it('active-pro: members appear as events arrive, a trigger starts on entry, and time passing makes the customer leave', async () => {
    const defined = await http.put('/v1/segments/active-pro').set('Authorization', CSM).send(ACTIVE_PRO).expect(200);
    expect(defined.body).toEqual({ id: 'active-pro', name: 'Active pro customers', version: 1, removed: false, changed: true });
    expect(defined.headers.etag).toBe('"1"');
    await http.put('/v1/segments/active-pro').set('Authorization', CSM).set('If-Match', '"0"').send(ACTIVE_PRO).expect(409);
    expect((await http.put('/v1/segments/active-pro').set('Authorization', CSM).send(ACTIVE_PRO).expect(200)).body.changed).toBe(false);

    const welcome = {
      id: 'welcome-active-pro',
      name: 'Welcome to active pro',
      entry: { segment: { entered: 'active-pro' } },
      steps: [{ send: { channel: 'inbox', body: 'You are one of our most active pro customers' } }],
    };
    await http.post('/v1/triggers').set('Authorization', CSM).send(welcome).expect(201);
    await http.post('/v1/triggers/welcome-active-pro/enable').set('Authorization', CSM).expect(200);

    // the Feature Used happened (event time) just under 7 days ago: they leave the window EXPIRES_IN_MS from now
    const start = Date.now();
    const old = (i: number) => new Date(start - 7 * DAY_MS + EXPIRES_IN_MS + i).toISOString();
    await ingest([
      { type: 'identify', userId: 'bob', messageId: 'seg-bob-1', traits: { plan: 'pro' } },
      { type: 'identify', userId: 'ann', messageId: 'seg-ann-1', traits: { plan: 'free' } },
      ...[0, 1, 2].flatMap((i) => [
        { type: 'track', userId: 'bob', messageId: `seg-bob-f${i}`, event: 'Feature Used', timestamp: old(i) },
        { type: 'track', userId: 'ann', messageId: `seg-ann-f${i}`, event: 'Feature Used', timestamp: old(i) },
      ]),
    ]);

    const members = await eventually(async () => {
      const page = (await http.get('/v1/segments/active-pro/members').set('Authorization', ANALYST).expect(200)).body;
      expect(page.total).toBe(1);
      return page;
    });
    expect(members.members).toEqual([{ customerId: 'bob', enteredAt: expect.any(String), version: 1 }]);
    expect(Date.now() - start).toBeLessThan(EXPIRES_IN_MS); // still within the window: the test saw the membership live
    const list = (await http.get('/v1/segments').set('Authorization', ANALYST).expect(200)).body;
    expect(list.segments).toEqual([{ id: 'active-pro', name: 'Active pro customers', version: 1, removed: false, members: 1 }]);

    // on bob's timeline: entered, then the trigger it started sent its message
    await eventually(async () => {
      const entries = await timeline('bob');
      const entered = entries.findIndex((e) => e.type === 'SegmentEntered');
      expect(entries[entered]).toMatchObject({ kind: 'segment', summary: 'Entered segment active-pro (v1)' });
      const matched = entries.findIndex((e) => e.type === 'TriggerMatched' && e.details.triggerId === 'welcome-active-pro');
      expect(matched).toBeGreaterThan(entered);
      expect(entries.some((e) => e.type === 'MessageDelivered')).toBe(true);
    });
    expect((await timeline('ann')).some((e) => e.kind === 'segment')).toBe(false);

    // time passes: the timer at the first Feature Used + 7 days fires, bob leaves
    await eventually(
      async () => {
        const page = (await http.get('/v1/segments/active-pro/members').set('Authorization', ANALYST).expect(200)).body;
        expect(page).toMatchObject({ total: 0, members: [] });
      },
      EXPIRES_IN_MS + 15_000,
      100,
    );
    expect(Date.now() - start).toBeGreaterThanOrEqual(EXPIRES_IN_MS);
    const left = (await timeline('bob')).filter((e) => e.type === 'SegmentLeft');
    expect(left).toEqual([expect.objectContaining({ summary: 'Left segment active-pro: conditions' })]);

    const today = new Date().toISOString().slice(0, 10);
    const counts = (await http.get(`/v1/segments/active-pro/counts?from=${today}&to=${today}`).set('Authorization', ANALYST).expect(200))
      .body;
    expect(counts.days).toEqual([{ day: today, entered: 1, left: 1, members: 0 }]);
    await http.get('/v1/segments/active-pro/counts?from=2026-13-01').set('Authorization', ANALYST).expect(400);
  }, 40_000);

  it('a new segment evaluates the existing customers once (backfill); removing it makes its members leave', async () => {
    await ingest([{ type: 'identify', userId: 'cid', messageId: 'seg-cid-1', traits: { plan: 'pro' } }]);
    await eventually(async () => expect((await timeline('cid')).length).toBeGreaterThan(0));
    // as YAML, like triggers kept in git
    await http
      .put('/v1/segments/pro')
      .set('Authorization', CSM)
      .set('Content-Type', 'application/yaml')
      .send('name: Pro plan\nconditions:\n  traits: { plan: pro }\n')
      .expect(200);
    const all = await eventually(async () => {
      const page = (await http.get('/v1/segments/pro/members?limit=1').set('Authorization', ANALYST).expect(200)).body;
      expect(page.total).toBe(2);
      return page;
    });
    expect(all.members.map((m: { customerId: string }) => m.customerId)).toEqual(['bob']);
    const next = (await http.get(`/v1/segments/pro/members?limit=1&cursor=${all.next}`).set('Authorization', ANALYST).expect(200)).body;
    expect(next.members.map((m: { customerId: string }) => m.customerId)).toEqual(['cid']);
    expect(next.next).toBeUndefined();
    const detail = (await http.get('/v1/segments/pro').set('Authorization', ANALYST).expect(200)).body;
    expect(detail).toMatchObject({ id: 'pro', version: 1, members: 2, backfill: { of: 'SegmentDefined', done: true } });
    expect(detail.versions).toEqual([{ version: 1, definedAt: expect.any(String), definedBy: 'http:csm' }]);

    // another workspace sees none of it
    await http.get('/v1/segments/pro').set('Authorization', OTHER).expect(404);
    expect((await http.get('/v1/segments').set('Authorization', OTHER).expect(200)).body.segments).toEqual([]);

    expect((await http.delete('/v1/segments/pro').set('Authorization', CSM).expect(200)).body).toMatchObject({
      removed: true,
      changed: true,
    });
    expect((await http.delete('/v1/segments/pro').set('Authorization', CSM).expect(200)).body.changed).toBe(false);
    await http.delete('/v1/segments/never').set('Authorization', CSM).expect(404);
    await eventually(async () => {
      const page = (await http.get('/v1/segments/pro/members').set('Authorization', ANALYST).expect(200)).body;
      expect(page.total).toBe(0);
    });
    for (const customer of ['bob', 'cid'])
      expect((await timeline(customer)).filter((e) => e.type === 'SegmentLeft' && e.details.segmentId === 'pro')).toEqual([
        expect.objectContaining({ summary: 'Left segment pro: segment-removed' }),
      ]);
    expect(
      (await http.get('/v1/segments').set('Authorization', ANALYST).expect(200)).body.segments.map((s: { id: string }) => s.id),
    ).toEqual(['active-pro']);
  }, 30_000);
});
