import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { customerStreamId, triggerStreamId, type JourneyEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';

const CSM = 'Bearer csm-key-impact';
const DAY = 86_400_000;

const welcome = {
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'Signed Up' },
  steps: [{ send: { channel: 'email', subject: 'Welcome', body: 'hi' } }],
};
const withTips = { ...welcome, steps: [...welcome.steps, { send: { channel: 'inbox', body: 'tips' } }] };

let seq = 0;
function event(customerId: string, type: string, data: Record<string, unknown>, at: Date): JourneyEvent {
  seq += 1;
  const iso = at.toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type,
    data,
    metadata: { workspaceId: 'default', customerId, occurredAt: iso, recordedAt: iso, source: 'test', schemaVersion: 1 },
  };
}

describe('trigger dry-run and the enable policy over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;
  let store: EventStore;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-impact-e2e-'));
    writeFileSync(join(dataDir, 'keys.json'), JSON.stringify({ keys: [{ key: 'csm-key-impact', workspaceId: 'default', role: 'csm' }] }));
    // No reactor: the history stays as written (a dry-run and a refused enable must not add to it).
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api' } });
    http = request(engine.app.getHttpServer());
    store = engine.app.get<EventStore>(EVENT_STORE);
    // three sign-ups on one day two days ago, one yesterday: the busiest day has 3 welcome emails
    const twoDaysAgo = new Date(Math.floor(Date.now() / DAY - 2) * DAY + 9 * 3_600_000);
    for (const [i, c] of ['u1', 'u2', 'u3', 'u4'].entries()) {
      const at = i < 3 ? new Date(twoDaysAgo.getTime() + i * 60_000) : new Date(twoDaysAgo.getTime() + DAY);
      await store.appendToStream(customerStreamId('default', c), [
        event(c, 'CustomerIdentified', { userId: c, traits: { plan: c === 'u1' ? 'pro' : 'free' } }, new Date(at.getTime() - 1000)),
        event(c, 'InteractionRecorded', { event: 'Signed Up', properties: {} }, at),
      ]);
    }
    await http.post('/v1/triggers').set('Authorization', CSM).send(welcome).expect(201);
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('PUT ?dryRun=true answers who starts getting the new step, and changes nothing', async () => {
    const head = await store.headPosition();
    const res = await http.put('/v1/triggers/welcome?dryRun=true').set('Authorization', CSM).send(withTips).expect(200);
    expect(res.body).toMatchObject({ dryRun: true, change: 'update', triggerId: 'welcome', takesEffect: 'on enable' });
    expect(res.body.policy).toBeUndefined();
    const { impact } = res.body;
    expect(impact).toMatchObject({
      current: { version: 1 },
      candidate: { version: 2 },
      entered: { current: 4, candidate: 4, difference: 0 },
      messages: { email: { current: 4, candidate: 4, difference: 0 }, inbox: { current: 0, candidate: 4, difference: 4 } },
      messagesPerDay: { candidate: { peak: 6 }, current: { peak: 3 }, difference: { peak: 3 } },
    });
    expect(impact.days).toBe(7);
    const tips = impact.steps.find((s: { step: string }) => s.step === 'send inbox');
    expect(tips).toMatchObject({ candidateAddress: '1', starts: { customers: 4 }, stops: { customers: 0 } });
    expect(tips.starts.sampleCustomerIds).toHaveLength(4);
    // nothing changed: same version, same log
    const after = await http.get('/v1/triggers/welcome').set('Authorization', CSM).expect(200);
    expect(after.body).toMatchObject({ version: 1, enabled: false });
    expect(await store.headPosition()).toBe(head);
  });

  it('PUT ?dryRun=true validates the document and the period (4xx naming the field)', async () => {
    const bad = await http
      .put('/v1/triggers/welcome?dryRun=true')
      .set('Authorization', CSM)
      .send({ ...welcome, steps: [{ wait: { duration: 'soon' } }] })
      .expect(400);
    expect(JSON.stringify(bad.body.message)).toContain('steps[0].wait.duration');
    const from = await http.put('/v1/triggers/welcome?dryRun=true&from=yesterday').set('Authorization', CSM).send(withTips).expect(400);
    expect(from.body.message).toMatch(/^from: expected an ISO 8601/);
    const samples = await http.put('/v1/triggers/welcome?dryRun=true&samples=1000').set('Authorization', CSM).send(withTips).expect(400);
    expect(samples.body.message).toMatch(/^samples: expected a whole number from 0 to 100/);
    const period = await http.put('/v1/triggers/welcome?from=2025-01-01').set('Authorization', CSM).send(withTips).expect(400);
    expect(period.body.message).toMatch(/only with dryRun=true/);
    const one = await http.put('/v1/triggers/welcome?dryRun=true&samples=1').set('Authorization', CSM).send(withTips).expect(200);
    expect(one.body.impact.steps.find((s: { step: string }) => s.step === 'send inbox').starts).toMatchObject({ customers: 4 });
    expect(one.body.impact.steps.find((s: { step: string }) => s.step === 'send inbox').starts.sampleCustomerIds).toHaveLength(1);
    const flag = await http.put('/v1/triggers/welcome?dryRun=maybe').set('Authorization', CSM).send(withTips).expect(400);
    expect(flag.body.message).toMatch(/^dryRun: expected true or false/);
    await http
      .put('/v1/triggers/nope?dryRun=true')
      .set('Authorization', CSM)
      .send({ ...withTips, id: 'nope' })
      .expect(404);
  });

  it('POST enable ?dryRun=true of a disabled trigger: nothing live, everything starts; over a given period', async () => {
    const from = new Date(Date.now() - 30 * DAY).toISOString();
    const res = await http.post(`/v1/triggers/welcome/enable?dryRun=true&from=${from}`).set('Authorization', CSM).expect(200);
    expect(res.body).toMatchObject({ change: 'enable', takesEffect: 'now', impact: { current: null, entered: { candidate: 4 } } });
    expect(res.body.impact.entered.starts.customers).toBe(4);
    expect((await http.get('/v1/triggers/welcome').set('Authorization', CSM)).body.enabled).toBe(false);
  });

  it('the policy refuses an enable over the limit (422 naming the estimate and the limit), an admin can force it', async () => {
    const bad = await http
      .put('/v1/admin/workspace/settings')
      .set('Authorization', engine.auth.admin)
      .send({ policy: { maxDailyMessagesOnEnable: -1 } })
      .expect(400);
    expect(bad.body.message).toMatch(/^policy.maxDailyMessagesOnEnable: must be a whole number/);
    await http
      .put('/v1/admin/workspace/settings')
      .set('Authorization', engine.auth.admin)
      .send({ policy: { maxDailyMessagesOnEnable: 2, period: '7d' } })
      .expect(200);

    const dry = await http.post('/v1/triggers/welcome/enable?dryRun=true').set('Authorization', CSM).expect(200);
    expect(dry.body.policy).toMatchObject({ limit: 2, period: '7d', exceeded: true, estimate: { peak: 3 } });

    const head = await store.headPosition();
    const refused = await http.post('/v1/triggers/welcome/enable').set('Authorization', CSM).expect(422);
    expect(refused.body.message).toMatch(
      /would send an estimated 3 messages a day .* more than the workspace limit of 2 \(policy.maxDailyMessagesOnEnable\)/,
    );
    expect(refused.body.policy).toMatchObject({ limit: 2, estimate: { peak: 3 } });
    expect(await store.headPosition()).toBe(head);
    await http.post('/v1/triggers/welcome/enable?force=true').set('Authorization', CSM).expect(403);
    expect((await http.get('/v1/triggers/welcome').set('Authorization', CSM)).body.enabled).toBe(false);

    const forced = await http.post('/v1/triggers/welcome/enable?force=true').set('Authorization', engine.auth.admin).expect(200);
    expect(forced.body).toMatchObject({ enabled: true, changed: true });
    const enabled = (await store.readStream(triggerStreamId('default', 'welcome'))).find((e) => e.type === 'TriggerEnabled')!;
    expect(enabled.data).toMatchObject({ version: 1, policyOverride: { policy: 'maxDailyMessagesOnEnable', limit: 2, estimate: 3 } });

    // a new version of an enabled trigger is live at once: the policy applies to PUT too
    const put = await http.put('/v1/triggers/welcome').set('Authorization', CSM).send(withTips).expect(422);
    expect(put.body.message).toMatch(/version 2 would send an estimated 6 messages a day/);
    expect((await http.get('/v1/triggers/welcome').set('Authorization', CSM)).body.version).toBe(1);
  });

  it('trigger analytics take asOf as a UTC day (400 otherwise)', async () => {
    const bad = await http.get('/v1/analytics/triggers?asOf=yesterday').set('Authorization', CSM).expect(400);
    expect(bad.body.message).toMatch(/^asOf: expected a UTC day such as 2025-03-31/);
    await http.get('/v1/analytics/triggers?asOf=2025-03-31&triggerId=welcome').set('Authorization', CSM).expect(200);
  });

  it('an enable under the limit is accepted, and a disable is never checked', async () => {
    await http
      .put('/v1/admin/workspace/settings')
      .set('Authorization', engine.auth.admin)
      .send({ policy: { maxDailyMessagesOnEnable: 10 } })
      .expect(200);
    const put = await http.put('/v1/triggers/welcome').set('Authorization', CSM).send(withTips).expect(200);
    expect(put.body).toMatchObject({ version: 2, enabled: true, changed: true });
    const defined = (await store.readStream(triggerStreamId('default', 'welcome'))).filter((e) => e.type === 'TriggerDefined');
    expect(defined[1].data.policyOverride).toBeUndefined();
    await http
      .put('/v1/admin/workspace/settings')
      .set('Authorization', engine.auth.admin)
      .send({ policy: { maxDailyMessagesOnEnable: 0 } })
      .expect(200);
    await http.post('/v1/triggers/welcome/disable').set('Authorization', CSM).expect(200);
  });
});
