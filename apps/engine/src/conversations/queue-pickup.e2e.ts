import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { PROJECTIONS, READ_MODEL_STORE, type ReadModelStore } from '@journey/read-models';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { HealthChecks } from '../operations/health';
import { ReactorWorkers } from '../reactors/reactors.module';
import { ConversationsService } from './conversations.service';
import { OrganisationService } from './organisation.service';
import { QUEUE_PICKUP, QueuePickupWorker } from './queue-pickup';

const env = { JOURNEY_ROLES: 'api,reactor' };

/** The engine's work projection (the pickup waits for its checkpoint), applied by the test: no projector runs here. */
const work = PROJECTIONS.find((p) => p.name === 'work')!;

describe('queue pickup in the engine (real SQLite stores; the work projection applied by the test, roles api,reactor)', () => {
  let dataDir: string;
  let engine: TestEngine | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-pickup-e2e-'));
  });
  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** What the projector would do: the work model up to the head of the log. */
  const project = async () => {
    const readModels = engine!.app.get<ReadModelStore>(READ_MODEL_STORE);
    const store = engine!.app.get<EventStore>(EVENT_STORE);
    await readModels.prepare(work);
    const events = await store.readAll({ after: await readModels.checkpoint(work.name) });
    if (events.length > 0) await readModels.applyBatch(work, events);
  };
  /** The last teams event (the pickup's position stops at the last event of its types). */
  const lastTeamsEvent = async () => {
    const events = await engine!.app.get<EventStore>(EVENT_STORE).readAll({ filter: { streamPrefixes: ['teams-'] } });
    return events[events.length - 1].position;
  };
  const assigned = async () =>
    (await engine!.app.get<EventStore>(EVENT_STORE).readStream(customerStreamId('default', 'ada')))
      .filter((e): e is RecordedEvent<any> => e.type === 'ConversationAssigned')
      .map((e) => [e.data.assignee, e.data.reason, e.metadata.source]);

  it('a conversation queued while everyone was away goes to the member who comes back, once, across a restart', async () => {
    engine = await startEngine({ dataDir, env });
    const organisation = engine.app.get(OrganisationService);
    await organisation.decide('default', { type: 'DefineTeam', team: { teamId: 'support' } });
    for (const memberId of ['ana', 'bob']) {
      await organisation.decide('default', { type: 'DefineMember', member: { memberId, teams: ['support'] } });
      await organisation.decide('default', { type: 'SetAvailability', memberId, away: true });
    }
    expect(engine.app.get(HealthChecks).checks.has(QUEUE_PICKUP)).toBe(true);
    const conversations = engine.app.get(ConversationsService);
    const { conversation } = await conversations.receive('default', 'ada', { channel: 'inbox', body: 'Our export is broken' }, 'inbox');
    await conversations.act(
      'default',
      'ada',
      conversation.conversationId,
      { type: 'Assign', team: 'support', priority: 'high', reason: 'queued', triggerId: 't', runId: 'r' },
      { source: 'reactor' },
    );
    await engine.app.get(ReactorWorkers).waitFor();
    expect(await assigned()).toEqual([[undefined, 'queued', 'reactor']]); // nobody available: it stays queued
    await project();

    await organisation.decide('default', { type: 'SetAvailability', memberId: 'bob', away: false });
    await eventually(async () => {
      await project();
      expect(await assigned()).toEqual([
        [undefined, 'queued', 'reactor'],
        ['bob', 'least-loaded', QUEUE_PICKUP],
      ]);
    });
    const pickup = engine.app.get(QueuePickupWorker).running!;
    await pickup.processor.waitFor(await lastTeamsEvent());
    await project();
    await engine.close();

    // a restart, and a second member back: nothing assigned twice
    engine = await startEngine({ dataDir, env });
    await engine.app.get(OrganisationService).decide('default', { type: 'SetAvailability', memberId: 'ana', away: false });
    const back = await lastTeamsEvent();
    await eventually(async () => {
      await project();
      await engine!.app.get(QueuePickupWorker).running!.processor.waitFor(back, 500);
    });
    expect(await assigned()).toEqual([
      [undefined, 'queued', 'reactor'],
      ['bob', 'least-loaded', QUEUE_PICKUP],
    ]);
    expect(engine.app.get(QueuePickupWorker).running!.lastError).toBeUndefined();
  });
});
