import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { customerStreamId, decideTrigger, initialTriggerState, triggerStreamId, type JourneyEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';

const CSM = 'Bearer csm-key-backtest';
const ANALYST = 'Bearer analyst-key-backtest';

const welcome = {
  id: 'welcome',
  name: 'Welcome',
  entry: { event: 'Signed Up' },
  steps: [{ send: { channel: 'email', subject: 'Welcome', body: 'hi' } }],
};

let seq = 0;
function track(customerId: string, name: string, at: string): JourneyEvent {
  seq += 1;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    type: 'InteractionRecorded',
    data: { event: name, properties: { plan: customerId === 'u1' ? 'pro' : 'free' } },
    metadata: { workspaceId: 'default', customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
  };
}

describe('trigger backtest over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;
  let store: EventStore;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-backtest-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'csm-key-backtest', workspaceId: 'default', role: 'csm' },
          { key: 'analyst-key-backtest', workspaceId: 'default', role: 'analyst' },
        ],
      }),
    );
    // No reactor: the history under test stays as written, and the backtest must not add to it.
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api' } });
    http = request(engine.app.getHttpServer());
    store = engine.app.get<EventStore>(EVENT_STORE);
    await store.appendToStream(customerStreamId('default', 'u1'), [
      track('u1', 'Signed Up', '2025-01-01T09:00:00Z'),
      track('u1', 'Upgraded', '2025-01-05T09:00:00Z'),
    ]);
    await store.appendToStream(customerStreamId('default', 'u2'), [track('u2', 'Signed Up', '2025-01-03T09:00:00Z')]);
    const now = new Date('2025-01-01T00:00:00Z');
    await store.appendToStream(
      triggerStreamId('default', 'welcome'),
      decideTrigger({ type: 'DefineTrigger', definition: welcome }, initialTriggerState('welcome'), { workspaceId: 'default', now }),
    );
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('backtests the stored latest version for a csm key, without appending anything', async () => {
    const head = await store.headPosition();
    const res = await http.post('/v1/triggers/welcome/backtest').set('Authorization', CSM).send({}).expect(200);
    expect(res.body).toMatchObject({
      triggerId: 'welcome',
      version: 1,
      customers: 2,
      entered: { runs: 2, customers: 2 },
      messages: { sent: { email: 2 } },
      exits: { completed: 2 },
    });
    expect(res.body.steps[0]).toMatchObject({ step: '0', kind: 'send', sent: { email: 2 } });
    expect(await store.headPosition()).toBe(head);
  });

  it('backtests a draft of the trigger (the next version) over a range', async () => {
    const draft = { ...welcome, entry: { event: 'Upgraded' } };
    const res = await http
      .post('/v1/triggers/welcome/backtest')
      .set('Authorization', engine.auth.admin)
      .send({ definition: draft, from: '2025-01-02T00:00:00Z', to: '2025-02-01T00:00:00Z' })
      .expect(200);
    expect(res.body).toMatchObject({
      version: 2,
      from: '2025-01-02T00:00:00.000Z',
      eventsReplayed: 2,
      contextEvents: 1,
      entered: { runs: 1, sampleCustomerIds: ['u1'] },
    });
  });

  it('backtests a draft that has no id yet', async () => {
    const res = await http
      .post('/v1/triggers/backtest')
      .set('Authorization', CSM)
      .send({ definition: { ...welcome, id: 'brand-new' } })
      .expect(200);
    expect(res.body).toMatchObject({ triggerId: 'brand-new', entered: { runs: 2 } });
  });

  it('answers 4xx naming the field for bad input, 404 for an unknown trigger, 403 for an analyst key', async () => {
    const bad = await http
      .post('/v1/triggers/welcome/backtest')
      .set('Authorization', CSM)
      .send({ definition: { ...welcome, steps: [{ wait: { duration: 'soon' } }] } })
      .expect(400);
    expect(bad.body.message).toEqual(['definition.steps[0].wait.duration: expected a duration like "3d", got "soon"']);
    const from = await http.post('/v1/triggers/welcome/backtest').set('Authorization', CSM).send({ from: 'yesterday' }).expect(400);
    expect(from.body.message).toMatch(/^from: expected an ISO 8601/);
    const range = await http
      .post('/v1/triggers/welcome/backtest')
      .set('Authorization', CSM)
      .send({ from: '2025-02-01', to: '2025-01-01' })
      .expect(400);
    expect(range.body.message).toMatch(/^from: must be before to/);
    const mismatch = await http
      .post('/v1/triggers/welcome/backtest')
      .set('Authorization', CSM)
      .send({ definition: { ...welcome, id: 'other' } })
      .expect(400);
    expect(mismatch.body.message).toMatch(/^definition.id: expected "welcome"/);
    await http.post('/v1/triggers/backtest').set('Authorization', CSM).send({}).expect(400);
    await http.post('/v1/triggers/nope/backtest').set('Authorization', CSM).send({}).expect(404);
    await http.post('/v1/triggers/welcome/backtest').set('Authorization', ANALYST).send({}).expect(403);
  });
});
