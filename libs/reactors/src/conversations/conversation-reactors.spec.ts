import {
  conversationsFromStream,
  customerStreamId,
  decideConversation,
  decideOrganisation,
  initialConversationState,
  organisationFromStream,
  teamsStreamId,
  type ConversationCommand,
  type OrganisationCommand,
  type JourneyEvent,
  type RecordedEvent,
} from '@journey/domain';
import { Liquid } from 'liquidjs';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase, type CheckpointStore, type EventStore } from '@journey/event-store';
import { ReactorRunner } from '../runtime/reactor-runner';
import { appendToCustomer, customerEvent } from '../testing/events';
import { FakeClock } from '../testing/fake-clock';
import { TimerScheduler } from '../timers/timer-scheduler';
import { AssignmentReactor } from './assignment-reactor';
import { SlaReactor } from './sla-reactor';

const SUPPORT = {
  teamId: 'support',
  name: 'Support',
  timeZone: 'UTC',
  sla: { high: { firstResponse: '1h', resolution: '8h' }, normal: { firstResponse: '4h' } },
  escalation: { notify: [{ channel: 'slack' }, { channel: 'email', to: 'lead@example.com' }], reassignToLead: true },
  ownerTrait: 'csm_owner',
};

describe('assignment and SLA reactors', () => {
  let store: EventStore;
  let checkpoints: CheckpointStore;
  let clock: FakeClock;
  let load: Map<string, number>;
  let running: { runners: ReactorRunner[]; scheduler: TimerScheduler } | undefined;

  const start = async () => {
    const runners = [
      new ReactorRunner(new AssignmentReactor(async () => load), { store, checkpoints, clock }),
      new ReactorRunner(new SlaReactor(), { store, checkpoints, clock }),
    ];
    const scheduler = new TimerScheduler({ store, clock });
    for (const r of runners) await r.start();
    await scheduler.start();
    running = { runners, scheduler };
  };
  const stop = async () => {
    if (!running) return;
    for (const r of running.runners) await r.stop();
    await running.scheduler.stop();
    running = undefined;
  };
  /** Until the reactors and the scheduler have handled the whole log, their own appends included. */
  const settle = async () => {
    for (;;) {
      clock.advance(0); // the fake clock runs what is due (timers due at once after a restart) only when it moves
      await running!.scheduler.settled();
      const head = await store.headPosition();
      for (const r of running!.runners) await r.waitFor(head);
      // the scheduler reads only the timer events: it reaches the last of them
      const timers = await store.readAll({ filter: { eventTypes: ['TimerScheduled', 'TimerFired', 'TimerCancelled'] } });
      if (timers.length > 0) await running!.scheduler.processor.waitFor(timers[timers.length - 1].position);
      await running!.scheduler.settled();
      if ((await store.headPosition()) === head) return;
    }
  };
  const advanceTo = async (iso: string) => {
    await settle();
    clock.set(iso);
    await running!.scheduler.settled();
    await settle();
  };

  const organise = async (...commands: OrganisationCommand[]) => {
    for (const command of commands) {
      const stream = teamsStreamId('w');
      const events = await store.readStream(stream);
      const decided = decideOrganisation(command, organisationFromStream(events), { workspaceId: 'w', now: clock.now(), by: 'admin' });
      await store.appendToStream(stream, decided);
    }
  };
  const conversation = async (customer: string, id: string, command: ConversationCommand) => {
    const events = await store.readStream(customerStreamId('w', customer));
    const state = conversationsFromStream(events).get(id) ?? initialConversationState(id);
    const decided = decideConversation(command, state, { workspaceId: 'w', customerId: customer, now: clock.now(), source: 'http' });
    await store.appendToStream(customerStreamId('w', customer), decided);
  };
  const identify = (customer: string, traits: Record<string, unknown>) =>
    appendToCustomer(store, customerEvent(customer, 'CustomerIdentified', { userId: customer, traits }, clock.now().toISOString()));
  /** A customer writes in and a trigger's handoff step queues the conversation for the team. */
  const handoff = async (customer: string, id: string, priority: 'high' | 'normal' = 'high') => {
    await conversation(customer, id, { type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'I cannot log in' });
    await conversation(customer, id, { type: 'Assign', team: 'support', priority, reason: 'queued', triggerId: 't', runId: 'r' });
    await settle();
  };
  const stream = (customer: string) => store.readStream(customerStreamId('w', customer));
  const ofType = async (customer: string, type: string): Promise<Array<RecordedEvent<JourneyEvent<string, any>>>> =>
    (await stream(customer)).filter((e) => e.type === type);

  beforeEach(async () => {
    const db = openSqliteDatabase(':memory:');
    store = new SqliteEventStore(db);
    checkpoints = new SqliteCheckpointStore(db);
    clock = new FakeClock('2025-03-12T10:00:00.000Z'); // a Wednesday
    load = new Map();
    await organise(
      { type: 'DefineTeam', team: { ...SUPPORT, escalation: { notify: SUPPORT.escalation.notify } } },
      { type: 'DefineMember', member: { memberId: 'ana', name: 'Ana', teams: ['support'] } },
      { type: 'DefineMember', member: { memberId: 'bob', name: 'Bob', email: 'bob@example.com', teams: ['support'] } },
      { type: 'DefineMember', member: { memberId: 'cid', name: 'Cid', teams: ['support'] } },
      { type: 'DefineMember', member: { memberId: 'lena', name: 'Lena', teams: [] } },
      { type: 'DefineTeam', team: { ...SUPPORT, lead: 'lena' } },
    );
    await start();
  });
  afterEach(stop);

  describe('assignment', () => {
    it('given a customer whose csm_owner is bob, when the conversation is handed off, then bob gets it (reason owner)', async () => {
      load = new Map([['bob', 9]]);
      await identify('c1', { csm_owner: 'bob' });
      await handoff('c1', 'k1');
      const assigned = await ofType('c1', 'ConversationAssigned');
      expect(assigned.map((e) => e.data)).toEqual([
        expect.objectContaining({ team: 'support', reason: 'queued' }),
        { conversationId: 'k1', team: 'support', assignee: 'bob', priority: 'high', reason: 'owner' },
      ]);
      expect(assigned[1].metadata).toMatchObject({ source: 'assignment', causationId: assigned[0].id });
    });

    it('given the owner named on the account by email, when handed off, then that member gets it', async () => {
      await identify('c1', {});
      await appendToCustomer(store, customerEvent('c1', 'AccountLinked', { groupId: 'acme', traits: { csm_owner: 'BOB@example.com' } }));
      await handoff('c1', 'k1');
      expect((await ofType('c1', 'ConversationAssigned'))[1].data).toMatchObject({ assignee: 'bob', reason: 'owner' });
    });

    it('given the owner is away, when handed off, then the least loaded available member gets it', async () => {
      load = new Map([
        ['ana', 3],
        ['bob', 0],
        ['cid', 1],
      ]);
      await organise({ type: 'SetAvailability', memberId: 'bob', away: true });
      await identify('c1', { csm_owner: 'bob' });
      await handoff('c1', 'k1');
      expect((await ofType('c1', 'ConversationAssigned'))[1].data).toMatchObject({ assignee: 'cid', reason: 'least-loaded' });
    });

    it('given two handoffs in one batch, then the second counts the first in the load', async () => {
      await stop();
      load = new Map([['cid', 5]]);
      for (const c of ['c1', 'c2']) {
        await conversation(c, 'k', { type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'hello' });
        await conversation(c, 'k', { type: 'Assign', team: 'support', priority: 'normal', reason: 'queued' });
      }
      await start();
      await settle();
      const a1 = (await ofType('c1', 'ConversationAssigned'))[1].data;
      const a2 = (await ofType('c2', 'ConversationAssigned'))[1].data;
      expect([a1.assignee, a2.assignee]).toEqual(['ana', 'bob']);
    });

    it('given nobody of the team is available, when handed off, then it stays queued', async () => {
      await organise(
        { type: 'SetAvailability', memberId: 'ana', away: true },
        { type: 'SetAvailability', memberId: 'bob', away: true },
        { type: 'SetAvailability', memberId: 'cid', away: true, until: '2025-03-13T00:00:00.000Z' },
      );
      await handoff('c1', 'k1');
      expect((await ofType('c1', 'ConversationAssigned')).map((e) => e.data.reason)).toEqual(['queued']);
    });

    it('given a task opened for the team, then a member is assigned it; a task owned by a member is left alone', async () => {
      load = new Map([['ana', 2]]);
      const opened = (taskId: string, owner: string) =>
        appendToCustomer(store, customerEvent('c1', 'CsmTaskOpened', { taskId, title: 'Call them', owner, priority: 'normal' }));
      await opened('t1', 'support');
      await opened('t2', 'ana');
      await settle();
      expect((await ofType('c1', 'CsmTaskAssigned')).map((e) => e.data)).toEqual([
        { taskId: 't1', assignee: 'bob', reason: 'least-loaded' },
      ]);
    });
  });

  describe('SLA', () => {
    it('given a first response in time, then its timer is cancelled and nothing is breached', async () => {
      await handoff('c1', 'k1');
      const [first, resolution] = await ofType('c1', 'TimerScheduled');
      expect(first.data).toMatchObject({
        dueAt: '2025-03-12T11:00:00.000Z',
        purpose: 'sla',
        payload: { subject: 'conversation', id: 'k1', target: 'first-response', team: 'support', priority: 'high' },
      });
      // eight working hours: 7 on Wednesday, one on Thursday
      expect(resolution.data).toMatchObject({ dueAt: '2025-03-13T10:00:00.000Z', payload: { target: 'resolution' } });
      await advanceTo('2025-03-12T10:30:00.000Z');
      await conversation('c1', 'k1', { type: 'Reply', body: 'Try this', by: 'ana' });
      await settle();
      expect((await ofType('c1', 'TimerCancelled')).map((e) => e.data)).toEqual([{ timerId: first.data.timerId, reason: 'met' }]);
      await advanceTo('2025-03-12T12:00:00.000Z');
      expect(await ofType('c1', 'SlaBreached')).toEqual([]);
    });

    it('given no first response, when the target passes, then SlaBreached, a Slack and an email alert, and the lead takes it', async () => {
      await handoff('c1', 'k1');
      await advanceTo('2025-03-12T10:59:00.000Z');
      expect(await ofType('c1', 'SlaBreached')).toEqual([]);
      await advanceTo('2025-03-12T11:00:00.000Z');
      const [breach] = await ofType('c1', 'SlaBreached');
      expect(breach.data).toEqual({
        subject: 'conversation',
        id: 'k1',
        target: 'first-response',
        dueAt: '2025-03-12T11:00:00.000Z',
        team: 'support',
        priority: 'high',
        assignee: 'ana',
      });
      const messages = (await ofType('c1', 'MessageScheduled')).map((e) => e.data);
      expect(messages).toEqual([
        expect.objectContaining({ channel: 'slack', conversationId: 'k1', template: { body: expect.stringContaining('first-response') } }),
        expect.objectContaining({ channel: 'email', to: 'lead@example.com', conversationId: 'k1' }),
      ]);
      // the text is kept literal when the dispatcher renders it as Liquid
      expect(await new Liquid({ strictVariables: true }).parseAndRender(String(messages[0].template.body), {})).toBe(
        'SLA breached: Conversation "k1" of customer "c1" missed its first-response target ' +
          '(team Support, priority high, due 2025-03-12T11:00:00.000Z); assigned to ana.',
      );
      expect((await ofType('c1', 'ConversationAssigned')).at(-1)!.data).toMatchObject({
        assignee: 'lena',
        team: 'support',
        reason: 'escalation',
      });
      // the lead holding it changes no timer: the resolution target still stands and breaches in its turn
      await advanceTo('2025-03-13T10:00:00.000Z');
      expect((await ofType('c1', 'SlaBreached')).map((e) => [e.data.target, e.data.assignee])).toEqual([
        ['first-response', 'ana'],
        ['resolution', 'lena'],
      ]);
    });

    it('given a conversation started on Friday afternoon, then the first response is due on Monday, in business hours', async () => {
      clock.set('2025-03-14T16:30:00.000Z');
      await handoff('c1', 'k1');
      const [first, resolution] = await ofType('c1', 'TimerScheduled');
      expect(first.data.dueAt).toBe('2025-03-17T09:30:00.000Z');
      expect(resolution.data.dueAt).toBe('2025-03-17T16:30:00.000Z');
      await advanceTo('2025-03-16T23:00:00.000Z');
      expect(await ofType('c1', 'SlaBreached')).toEqual([]);
      await advanceTo('2025-03-17T09:30:00.000Z');
      expect((await ofType('c1', 'SlaBreached')).map((e) => e.data.target)).toEqual(['first-response']);
    });

    it('given a team in Berlin, then the due time is counted in its business hours', async () => {
      await organise({ type: 'DefineTeam', team: { ...SUPPORT, lead: 'lena', timeZone: 'Europe/Berlin' } });
      clock.set('2025-03-12T15:30:00.000Z'); // 16:30 in Berlin: 30 minutes today, 30 tomorrow from 09:00 (08:00 UTC)
      await handoff('c1', 'k1');
      expect((await ofType('c1', 'TimerScheduled'))[0].data.dueAt).toBe('2025-03-13T08:30:00.000Z');
    });

    it('given a resolution in time, then both timers are cancelled', async () => {
      await handoff('c1', 'k1');
      await conversation('c1', 'k1', { type: 'Resolve', by: 'ana' });
      await settle();
      expect((await ofType('c1', 'TimerCancelled')).map((e) => e.data.reason).sort()).toEqual(['met', 'resolved']);
      await advanceTo('2025-03-13T10:00:00.000Z');
      expect(await ofType('c1', 'SlaBreached')).toEqual([]);
    });

    it('given a priority without targets, then no timer is scheduled', async () => {
      await conversation('c1', 'k1', { type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'hi' });
      await conversation('c1', 'k1', { type: 'Assign', team: 'support', priority: 'low', reason: 'queued' });
      await settle();
      expect(await ofType('c1', 'TimerScheduled')).toEqual([]);
    });

    it('given a task for the team without a due time, then the team resolution target applies; breached, the lead gets it', async () => {
      await appendToCustomer(
        store,
        customerEvent(
          'c1',
          'CsmTaskOpened',
          { taskId: 't1', title: 'Call', owner: 'support', priority: 'high' },
          clock.now().toISOString(),
        ),
      );
      await settle();
      const [timer] = await ofType('c1', 'TimerScheduled');
      expect(timer.data).toMatchObject({
        dueAt: '2025-03-13T10:00:00.000Z',
        payload: { subject: 'task', id: 't1', target: 'resolution', team: 'support', priority: 'high' },
      });
      await advanceTo('2025-03-13T09:59:00.000Z');
      expect(await ofType('c1', 'SlaBreached')).toEqual([]);
      await advanceTo('2025-03-13T10:00:00.000Z');
      expect((await ofType('c1', 'SlaBreached')).map((e) => e.data)).toEqual([
        {
          subject: 'task',
          id: 't1',
          target: 'resolution',
          dueAt: '2025-03-13T10:00:00.000Z',
          team: 'support',
          priority: 'high',
          assignee: 'ana',
        },
      ]);
      expect((await ofType('c1', 'MessageScheduled')).map((e) => e.data.channel)).toEqual(['slack', 'email']);
      expect((await ofType('c1', 'CsmTaskAssigned')).map((e) => e.data)).toEqual([
        { taskId: 't1', assignee: 'ana', reason: 'least-loaded' },
        { taskId: 't1', assignee: 'lena', reason: 'escalation' },
      ]);
    });

    it('given a task with a due time closed in time, then its timer is cancelled and nothing is breached', async () => {
      await appendToCustomer(
        store,
        customerEvent('c1', 'CsmTaskOpened', {
          taskId: 't2',
          title: 'Renewal call',
          owner: 'ana',
          priority: 'normal',
          dueAt: '2025-03-12T12:00:00.000Z',
        }),
      );
      await settle();
      expect((await ofType('c1', 'TimerScheduled'))[0].data).toMatchObject({
        dueAt: '2025-03-12T12:00:00.000Z',
        payload: { team: 'support' },
      });
      await appendToCustomer(
        store,
        customerEvent('c1', 'CsmTaskClosed', { taskId: 't2', resolution: 'closed', outcome: 'renewed', by: 'ana' }),
      );
      await settle();
      expect((await ofType('c1', 'TimerCancelled')).map((e) => e.data.reason)).toEqual(['met']);
      await advanceTo('2025-03-12T13:00:00.000Z');
      expect(await ofType('c1', 'SlaBreached')).toEqual([]);
    });

    it('given a snoozed conversation, when the snooze ends, then it is reopened once (snooze-ended)', async () => {
      await handoff('c1', 'k1', 'normal');
      await conversation('c1', 'k1', { type: 'Reply', body: 'Will check', by: 'ana' });
      await conversation('c1', 'k1', { type: 'Snooze', until: '2025-03-12T14:00:00.000Z', by: 'ana' });
      await settle();
      expect((await ofType('c1', 'TimerScheduled')).at(-1)!.data).toMatchObject({
        purpose: 'snooze',
        dueAt: '2025-03-12T14:00:00.000Z',
        payload: { conversationId: 'k1' },
      });
      await advanceTo('2025-03-12T14:00:00.000Z');
      expect((await ofType('c1', 'ConversationReopened')).map((e) => e.data)).toEqual([{ conversationId: 'k1', reason: 'snooze-ended' }]);
      expect(conversationsFromStream(await stream('c1')).get('k1')!.status).toBe('open');
    });

    it('given a snoozed conversation the customer reopened earlier, then the snooze end does not reopen it again', async () => {
      await handoff('c1', 'k1', 'normal');
      await conversation('c1', 'k1', { type: 'Snooze', until: '2025-03-12T14:00:00.000Z', by: 'ana' });
      await conversation('c1', 'k1', { type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'Any news?' });
      await settle();
      expect((await ofType('c1', 'TimerCancelled')).map((e) => e.data.reason)).toContain('reopened');
      await advanceTo('2025-03-12T15:00:00.000Z');
      expect((await ofType('c1', 'ConversationReopened')).map((e) => e.data.reason)).toEqual(['customer-replied']);
    });

    it('given a restart between scheduling and firing, then the breach is raised once', async () => {
      await handoff('c1', 'k1');
      expect(await ofType('c1', 'TimerScheduled')).toHaveLength(2);
      await stop();
      clock.set('2025-03-12T11:30:00.000Z'); // due while the engine is down
      await start();
      await settle();
      // and once more, reactors replaying from scratch (new checkpoints): the same ids, nothing written twice
      await stop();
      checkpoints = new SqliteCheckpointStore(openSqliteDatabase(':memory:'));
      await start();
      await settle();
      expect((await ofType('c1', 'SlaBreached')).map((e) => e.data.target)).toEqual(['first-response']);
      expect(await ofType('c1', 'MessageScheduled')).toHaveLength(2);
      expect((await ofType('c1', 'ConversationAssigned')).map((e) => e.data.reason)).toEqual(['queued', 'least-loaded', 'escalation']);
    });
  });
});
