import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ConversationsService } from '../conversations/conversations.service';
import { OrganisationService } from '../conversations/organisation.service';
import { ReactorWorkers } from './reactors.module';

const env = { JOURNEY_ROLES: 'api,reactor' };
const stream = customerStreamId('default', 'ada');
const ofType = (events: RecordedEvent[], type: string) => events.filter((e) => e.type === type);

/** A fixed-offset zone where it is about noon now, so a team working 00:00-23:59 every day is at work for the test. */
function noonZone(): string {
  const n = new Date().getUTCHours() - 12;
  return n === 0 ? 'UTC' : `Etc/GMT${n > 0 ? '+' : '-'}${Math.abs(n)}`;
}

describe('assignment and SLA reactors in the engine', () => {
  let dataDir: string;
  let engine: TestEngine | undefined;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-sla-e2e-'));
  });
  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('assigns a handoff, schedules its SLA timer, and after a restart raises the breach once and escalates', async () => {
    engine = await startEngine({ dataDir, env });
    const organisation = engine.app.get(OrganisationService);
    await organisation.decide('default', {
      type: 'DefineTeam',
      team: { teamId: 'support', timeZone: noonZone(), businessHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' } },
    });
    await organisation.decide('default', { type: 'DefineMember', member: { memberId: 'ana', teams: ['support'] } });
    await organisation.decide('default', { type: 'DefineMember', member: { memberId: 'lena', teams: [] } });
    await organisation.decide('default', {
      type: 'DefineTeam',
      team: {
        teamId: 'support',
        timeZone: noonZone(),
        businessHours: { days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '23:59' },
        sla: { urgent: { firstResponse: '5s' } },
        escalation: { notify: [{ channel: 'slack' }], reassignToLead: true },
        lead: 'lena',
      },
    });
    const conversations = engine.app.get(ConversationsService);
    const { conversation } = await conversations.receive('default', 'ada', { channel: 'inbox', body: 'Our export is broken' }, 'inbox');
    await conversations.act(
      'default',
      'ada',
      conversation.conversationId,
      { type: 'Assign', team: 'support', priority: 'urgent', reason: 'queued', triggerId: 't', runId: 'r' },
      { source: 'reactor' },
    );
    let store = engine.app.get<EventStore>(EVENT_STORE);
    const scheduled = await eventually(async () => {
      await engine!.app.get(ReactorWorkers).waitFor();
      const events = await store.readStream(stream);
      // the first two (on a loaded machine the 5 s target may already have been breached: then once, checked below)
      expect(
        ofType(events, 'ConversationAssigned')
          .slice(0, 2)
          .map((e) => [e.data.reason, e.data.assignee]),
      ).toEqual([
        ['queued', undefined],
        ['least-loaded', 'ana'],
      ]);
      const timer = ofType(events, 'TimerScheduled').find((e) => e.data.purpose === 'sla')!; // the stage model times the reply's inactivity too
      expect(timer.data).toMatchObject({ purpose: 'sla', payload: { target: 'first-response', team: 'support', priority: 'urgent' } });
      return timer;
    });

    await engine.close();
    engine = undefined;
    const dueAt = Date.parse(String(scheduled.data.dueAt));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueAt - Date.now() + 100)));

    engine = await startEngine({ dataDir, env });
    store = engine.app.get<EventStore>(EVENT_STORE);
    const events = await eventually(async () => {
      const all = await store.readStream(stream);
      expect(ofType(all, 'ConversationAssigned').map((e) => e.data.reason)).toEqual(['queued', 'least-loaded', 'escalation']);
      return all;
    }, 15_000);
    expect(ofType(events, 'SlaBreached').map((e) => e.data)).toEqual([
      {
        subject: 'conversation',
        id: conversation.conversationId,
        target: 'first-response',
        dueAt: scheduled.data.dueAt,
        team: 'support',
        priority: 'urgent',
        assignee: 'ana',
      },
    ]);
    expect(ofType(events, 'MessageScheduled').map((e) => [e.data.channel, e.data.conversationId])).toEqual([
      ['slack', conversation.conversationId],
    ]);
    expect(ofType(events, 'ConversationAssigned').at(-1)!.data).toMatchObject({ assignee: 'lena', reason: 'escalation' });
  });
});
