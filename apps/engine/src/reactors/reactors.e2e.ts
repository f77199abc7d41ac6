import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { customerStreamId, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ReactorWorkers } from './reactors.module';

const INACTIVITY_SECONDS = 5;
const env = { JOURNEY_ROLES: 'api,reactor', JOURNEY_INACTIVITY_DAYS: String(INACTIVITY_SECONDS / 86_400) };
const stream = customerStreamId('default', 'ada');

function event(type: string, data: Record<string, unknown>, occurredAt: string): JourneyEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { workspaceId: 'default', customerId: 'ada', occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
  };
}
const stages = (events: RecordedEvent[]) =>
  events.filter((e) => e.type === 'StageChanged').map((e) => `${String(e.data.from)}->${String(e.data.to)}`);

describe('reactors in the engine: stage model and durable timers across a restart', () => {
  let dataDir: string;
  let engine: TestEngine | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-reactors-e2e-'));
  });
  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('moves a customer through onboarding and active, and fires the inactivity timer after a restart', async () => {
    engine = await startEngine({ dataDir, env });
    let store = engine.app.get<EventStore>(EVENT_STORE);
    const occurredAt = new Date().toISOString();
    await store.appendToStream(stream, [event('CustomerIdentified', { userId: 'ada', traits: { plan: 'pro' } }, occurredAt)]);
    await engine.app.get(ReactorWorkers).waitFor();
    expect(stages(await store.readStream(stream))).toEqual(['null->onboarding']);

    await store.appendToStream(stream, [event('InteractionRecorded', { event: 'Project Created', properties: {} }, occurredAt)]);
    await engine.app.get(ReactorWorkers).waitFor();
    const beforeRestart = await store.readStream(stream);
    expect(stages(beforeRestart)).toEqual(['null->onboarding', 'onboarding->active']);
    const timer = beforeRestart.find((e) => e.type === 'TimerScheduled');
    expect(timer?.data).toMatchObject({
      purpose: 'stage:inactivity',
      dueAt: new Date(Date.parse(occurredAt) + INACTIVITY_SECONDS * 1000).toISOString(),
    });

    const health = await request(engine.app.getHttpServer()).get('/health').expect(200);
    expect(health.body.details).toMatchObject({ 'reactor:stage': { status: 'up' }, timers: { status: 'up' } });

    await engine.close();
    engine = undefined;
    // the engine is down: nothing has fired yet
    const file = new SqliteEventStore(openSqliteDatabase(join(dataDir, 'journey.db')));
    expect((await file.readStream(stream)).map((e) => e.type)).not.toContain('TimerFired');
    await file.close();
    const dueAt = Date.parse(String(timer?.data.dueAt));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now() + 100)));

    engine = await startEngine({ dataDir, env });
    store = engine.app.get<EventStore>(EVENT_STORE);
    const after = await eventually(async () => {
      const events = await store.readStream(stream);
      expect(stages(events)).toEqual(['null->onboarding', 'onboarding->active', 'active->at-risk']);
      return events;
    }, 15_000);
    expect(after.filter((e) => e.type === 'TimerFired').map((e) => e.data.timerId)).toEqual([timer?.data.timerId]);
  });
});
