import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { customerStreamId, type JourneyEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ProjectionsService } from '../projections/projections.service';

const CSM = 'Bearer csm-key-e2e';
const ANALYST = 'Bearer analyst-key-e2e';
const OTHER_WORKSPACE = 'Bearer other-ws-csm-e2e';

let seq = 0;
function event(customerId: string, type: string, data: Record<string, unknown>, occurredAt: string, recordedAt = occurredAt): JourneyEvent {
  seq += 1;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type,
    data,
    metadata: { workspaceId: 'default', customerId, occurredAt, recordedAt, source: 'test', schemaVersion: 1 },
  };
}

describe('customers, timeline and analytics over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-customers-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'csm-key-e2e', workspaceId: 'default', role: 'csm' },
          { key: 'analyst-key-e2e', workspaceId: 'default', role: 'analyst' },
          { key: 'other-ws-csm-e2e', workspaceId: 'other', role: 'csm' },
        ],
      }),
    );
    // Only the API and the projections: no reactor adds events of its own to the history under test.
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api,projector' } });
    http = request(engine.app.getHttpServer());
    const store = engine.app.get<EventStore>(EVENT_STORE);
    await store.appendToStream(customerStreamId('default', 'u1'), [
      event('u1', 'CustomerIdentified', { userId: 'u1', traits: { email: 'ada@example.com', plan: 'pro' } }, '2025-01-01T09:00:00.000Z'),
      event('u1', 'InteractionRecorded', { event: 'Report Created', properties: {} }, '2025-01-02T09:00:00.000Z'),
      event('u1', 'StageChanged', { from: 'onboarding', to: 'active', reason: 'created a report' }, '2025-01-02T09:00:01.000Z'),
      event('u1', 'CsmTaskOpened', { taskId: 't1', title: 'Check in', owner: 'sam', priority: 'normal' }, '2025-01-03T09:00:00.000Z'),
      // late: happened on Jan 1st, recorded on Jan 5th
      event('u1', 'PageViewed', { kind: 'page', name: 'Pricing', properties: {} }, '2025-01-01T10:00:00.000Z', '2025-01-05T00:00:00.000Z'),
      event(
        'u1',
        'TimerScheduled',
        { timerId: 'x', dueAt: '2025-02-01T00:00:00Z', purpose: 'stage:inactivity' },
        '2025-01-05T00:00:00.000Z',
      ),
    ]);
    await store.appendToStream(customerStreamId('default', 'u2'), [
      event('u2', 'CustomerIdentified', { userId: 'u2', traits: {} }, '2025-01-04T00:00:00.000Z'),
    ]);
    await engine.app.get(ProjectionsService).waitForCatchUp();
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the current state of a customer to csm and analyst keys', async () => {
    const res = await http.get('/v1/customers/u1').set('Authorization', CSM).expect(200);
    expect(res.body).toMatchObject({
      workspaceId: 'default',
      customerId: 'u1',
      stage: 'active',
      traits: { email: 'ada@example.com', plan: 'pro' },
      interactions: { total: 1, byEvent: { 'Report Created': 1 } },
      pageViews: 1,
      firstSeen: '2025-01-01T09:00:00.000Z',
      lastSeen: '2025-01-02T09:00:00.000Z',
      openTasks: [{ taskId: 't1', title: 'Check in', owner: 'sam', priority: 'normal', openedAt: '2025-01-03T09:00:00.000Z' }],
      health: 70,
      forgotten: false,
    });
    await http.get('/v1/customers/u1').set('Authorization', ANALYST).expect(200);
    await http.get('/v1/customers/u1').set('Authorization', engine.auth.admin).expect(200);
  });

  it('refuses write keys (403) and missing keys (401), and keeps workspaces apart (404)', async () => {
    await http.get('/v1/customers/u1').set('Authorization', engine.auth.write).expect(403);
    await http.get('/v1/customers/u1/timeline').set('Authorization', engine.auth.write).expect(403);
    await http.get('/v1/analytics/stages').set('Authorization', engine.auth.write).expect(403);
    await http.get('/v1/customers/u1').expect(401);
    await http.get('/v1/customers/u1').set('Authorization', OTHER_WORKSPACE).expect(404);
  });

  it('answers 404 for an unknown customer', async () => {
    const res = await http.get('/v1/customers/nobody').set('Authorization', CSM).expect(404);
    expect(res.body.message).toContain('nobody');
    await http.get('/v1/customers/nobody/timeline').set('Authorization', CSM).expect(404);
  });

  it('gives the timeline in event-time order, without timers', async () => {
    const res = await http.get('/v1/customers/u1/timeline').set('Authorization', CSM).expect(200);
    expect(res.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'CustomerIdentified',
      'PageViewed',
      'InteractionRecorded',
      'StageChanged',
      'CsmTaskOpened',
    ]);
  });

  it('travels in time with asOf: the timeline and the state as the engine knew them', async () => {
    const before = await http
      .get('/v1/customers/u1/timeline')
      .query({ asOf: '2025-01-04T00:00:00Z' })
      .set('Authorization', CSM)
      .expect(200);
    expect(before.body.asOf).toBe('2025-01-04T00:00:00.000Z');
    expect(before.body.entries.map((e: { type: string }) => e.type)).toEqual([
      'CustomerIdentified',
      'InteractionRecorded',
      'StageChanged',
      'CsmTaskOpened',
    ]);
    const state = await http.get('/v1/customers/u1').query({ asOf: '2025-01-02T00:00:00Z' }).set('Authorization', CSM).expect(200);
    expect(state.body).toMatchObject({ stage: 'onboarding', interactions: { total: 0 }, openTasks: [] });
    await http.get('/v1/customers/u1').query({ asOf: '2024-12-31T00:00:00Z' }).set('Authorization', CSM).expect(404);
  });

  it('answers 400 naming asOf when it is not an ISO time', async () => {
    for (const asOf of ['yesterday', '2025-13-45T00:00:00Z', '1700000000']) {
      const res = await http.get('/v1/customers/u1/timeline').query({ asOf }).set('Authorization', CSM).expect(400);
      expect(res.body.message).toContain('asOf');
    }
    await http.get('/v1/customers/u1?asOf=a&asOf=b').set('Authorization', CSM).expect(400);
  });

  it('answers stage analytics: customers per stage now and transitions per day', async () => {
    const res = await http.get('/v1/analytics/stages').set('Authorization', ANALYST).expect(200);
    expect(res.body.customersPerStage).toEqual({ none: 0, onboarding: 1, active: 1, 'at-risk': 0, renewal: 0, churned: 0 });
    expect(res.body.transitions).toEqual([{ day: '2025-01-02', from: 'onboarding', to: 'active', count: 1 }]);
  });

  it('reports projection positions to admins, exports metrics, and rebuilds to identical results', async () => {
    const status = await http.get('/v1/admin/projections').set('Authorization', engine.auth.admin).expect(200);
    const head = (await engine.app.get<EventStore>(EVENT_STORE).headPosition()).toString();
    expect(status.body.projections).toEqual([
      { name: 'customers', running: true, position: head, head, lag: 0 },
      { name: 'stage-analytics', running: true, position: head, head, lag: 0 },
      { name: 'trigger-analytics', running: true, position: head, head, lag: 0 },
      { name: 'conversation-analytics', running: true, position: head, head, lag: 0 },
      { name: 'work', running: true, position: head, head, lag: 0 },
      { name: 'broadcast-analytics', running: true, position: head, head, lag: 0 },
      { name: 'segment-members', running: true, position: head, head, lag: 0 },
    ]);
    await http.get('/v1/admin/projections').set('Authorization', CSM).expect(403);
    const metrics = await http.get('/metrics').set('Authorization', engine.auth.admin).expect(200);
    expect(metrics.text).toContain(`journey_projection_position{projection="customers"} ${head}`);

    const before = await http.get('/v1/customers/u1').set('Authorization', CSM).expect(200);
    const analyticsBefore = await http.get('/v1/analytics/stages').set('Authorization', CSM).expect(200);
    const rebuilt = await http.post('/v1/admin/projections/customers/rebuild').set('Authorization', engine.auth.admin).expect(200);
    expect(rebuilt.body).toMatchObject({
      projection: 'customers',
      position: head,
      identical: true,
      documents: { customers: 2 },
      differences: { customers: 0 },
    });
    await http.post('/v1/admin/projections/stage-analytics/rebuild').set('Authorization', engine.auth.admin).expect(200);
    expect((await http.get('/v1/customers/u1').set('Authorization', CSM).expect(200)).body).toEqual(before.body);
    expect((await http.get('/v1/analytics/stages').set('Authorization', CSM).expect(200)).body).toEqual(analyticsBefore.body);
    await http.post('/v1/admin/projections/nope/rebuild').set('Authorization', engine.auth.admin).expect(404);
    await http.post('/v1/admin/projections/customers/rebuild').set('Authorization', CSM).expect(403);
  });

  it('keeps projecting after a rebuild', async () => {
    const store = engine.app.get<EventStore>(EVENT_STORE);
    const { position } = await store.appendToStream(customerStreamId('default', 'u2'), [
      event('u2', 'StageChanged', { from: 'onboarding', to: 'at-risk', reason: 'inactive' }, '2025-01-20T00:00:00.000Z'),
    ]);
    await engine.app.get(ProjectionsService).waitForCatchUp(position);
    const res = await http.get('/v1/customers/u2').set('Authorization', CSM).expect(200);
    expect(res.body).toMatchObject({ stage: 'at-risk', health: 30, position: position.toString() });
  });
});
