import { envelope } from '../envelope';
import type { JourneyEvent } from '../events';
import { decideConversation, initialConversationState, type ConversationCommand } from './conversation';
import { decideOrganisation, organisationFromStream, type OrganisationCommand, type OrganisationState } from './organisation';
import { decideSla, evolveSla, initialSlaState, literal, taskTeam, type SlaState } from './sla';

const T0 = '2025-03-12T10:00:00.000Z'; // a Wednesday

function organisation(...commands: OrganisationCommand[]): OrganisationState {
  const events: JourneyEvent[] = [];
  for (const c of commands) events.push(...decideOrganisation(c, organisationFromStream(events), { workspaceId: 'w', now: new Date(T0) }));
  return organisationFromStream(events);
}

const ORG = organisation(
  { type: 'DefineTeam', team: { teamId: 'support', timeZone: 'UTC', sla: { high: { firstResponse: '1h', resolution: '8h' } } } },
  { type: 'DefineTeam', team: { teamId: 'billing', timeZone: 'UTC', sla: { normal: { firstResponse: '2h' } } } },
  { type: 'DefineMember', member: { memberId: 'ana', teams: ['billing', 'support'] } },
  {
    type: 'DefineTeam',
    team: { teamId: 'success', name: 'Success', notifyHandoffs: [{ channel: 'slack' }, { channel: 'email', to: 'success@example.com' }] },
  },
);

/** A stream being written: conversation commands at given times, folded into the SLA state (with the SLA's effects). */
class Given {
  state: SlaState = initialSlaState();
  private conversation = initialConversationState('k1');
  private n = 0;

  /** Decides a conversation command at `at`; returns its events, and folds them with the effects decideSla gives. */
  act(command: ConversationCommand, at = T0): JourneyEvent[] {
    const events = decideConversation(command, this.conversation, {
      workspaceId: 'w',
      customerId: 'c1',
      now: new Date(at),
      source: 'http',
    }).map((e) => ({ ...e, id: `e${this.n++}` }));
    for (const e of events) this.apply(e, at);
    return events;
  }

  apply(e: JourneyEvent, at = T0): JourneyEvent[] {
    const effects = decideSla(this.state, e, { now: new Date(at), organisation: ORG });
    this.state = effects.reduce(evolveSla, evolveSla(this.state, e));
    if (e.type.startsWith('Conversation') || e.type === 'AgentReplied' || e.type === 'CustomerReplied')
      this.conversation = conversationOf(this.state);
    return effects;
  }

  /** What decideSla decides on the next command's events (not folded). */
  when(command: ConversationCommand, at = T0): JourneyEvent[] {
    const events = decideConversation(command, this.conversation, {
      workspaceId: 'w',
      customerId: 'c1',
      now: new Date(at),
      source: 'http',
    });
    return events.flatMap((e) => this.apply({ ...e, id: `e${this.n++}` }, at));
  }
}
const conversationOf = (s: SlaState) => s.conversations.get('k1')!.state;
const timerFired = (scheduled: JourneyEvent, at: string) =>
  envelope({
    id: `fired-${String(scheduled.data.timerId)}`,
    type: 'TimerFired',
    data: { timerId: scheduled.data.timerId as string, purpose: 'sla', payload: scheduled.data.payload as Record<string, unknown> },
    workspaceId: 'w',
    customerId: 'c1',
    occurredAt: at,
    recordedAt: at,
    source: 'timer',
  });
const summary = (events: JourneyEvent[]) =>
  events.map((e) =>
    e.type === 'TimerScheduled'
      ? `scheduled ${String((e.data.payload as { target: string }).target)} ${String(e.data.dueAt)}`
      : e.type === 'TimerCancelled'
        ? `cancelled ${String(e.data.reason)}`
        : e.type,
  );

describe('decideSla', () => {
  const started = () => {
    const g = new Given();
    g.act({ type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'help' });
    return g;
  };

  it('given a conversation, when it is handed to a team with targets for its priority, then both targets are scheduled', () => {
    const g = started();
    expect(summary(g.when({ type: 'Assign', team: 'support', priority: 'high', reason: 'queued' }, '2025-03-12T10:20:00.000Z'))).toEqual([
      'scheduled first-response 2025-03-12T11:00:00.000Z',
      'scheduled resolution 2025-03-13T10:00:00.000Z',
    ]);
  });

  it('given a team that is told of handoffs, when a conversation is handed to it, then its Slack and email get one post; not when it moves within the team', () => {
    const g = started();
    const posts = g.when({ type: 'Assign', team: 'success', priority: 'high', reason: 'queued', triggerId: 'triage', runId: 'r' });
    expect(posts.map((e) => [e.type, e.data.channel, e.data.conversationId, e.data.to])).toEqual([
      ['MessageScheduled', 'slack', 'k1', undefined],
      ['MessageScheduled', 'email', 'k1', 'success@example.com'],
    ]);
    expect(String((posts[0].data as { template: { body: string } }).template.body)).toBe(
      literal('Handoff: customer "c1" needs a person in team Success (priority high, from trigger triage); waiting in the queue.'),
    );
    g.act({ type: 'Assign', team: 'success', priority: 'high', reason: 'queued' });
    expect(g.when({ type: 'Assign', assignee: 'ana', reason: 'least-loaded' })).toEqual([]);
  });

  it('given timers for a team, when only the assignee changes, then they stay; when the team changes, they are replaced', () => {
    const g = started();
    g.act({ type: 'Assign', team: 'support', priority: 'high', reason: 'queued' });
    expect(g.when({ type: 'Assign', assignee: 'ana', reason: 'least-loaded' })).toEqual([]);
    expect(summary(g.when({ type: 'Assign', team: 'billing', priority: 'normal', reason: 'manual' }))).toEqual([
      'cancelled reassigned',
      'scheduled first-response 2025-03-12T12:00:00.000Z',
      'cancelled reassigned',
    ]);
  });

  it('given an answer before the handoff, then only the resolution target is scheduled', () => {
    const g = started();
    g.act({ type: 'Reply', body: 'Looking', automated: { triggerId: 't', runId: 'r' } });
    expect(summary(g.when({ type: 'Assign', team: 'support', priority: 'high', reason: 'queued' }))).toEqual([
      'scheduled resolution 2025-03-13T10:00:00.000Z',
    ]);
  });

  it('given a resolved conversation, when it is reopened, then a new resolution target counts from the reopening', () => {
    const g = started();
    g.act({ type: 'Assign', team: 'support', priority: 'high', reason: 'queued' });
    g.act({ type: 'Reply', body: 'Done', by: 'ana' });
    g.act({ type: 'Resolve', by: 'ana' });
    expect(summary(g.when({ type: 'ReceiveCustomerMessage', channel: 'inbox', body: 'Not fixed' }, '2025-03-14T16:00:00.000Z'))).toEqual([
      'scheduled resolution 2025-03-17T16:00:00.000Z',
    ]);
  });

  it('given an unmet target, when its timer fires, then SlaBreached (no escalation configured); the same event decided again gives the same ids', () => {
    const g = started();
    const effects: JourneyEvent[] = [];
    const assign = decideConversation({ type: 'Assign', team: 'support', priority: 'high', reason: 'queued' }, conversationOf(g.state), {
      workspaceId: 'w',
      customerId: 'c1',
      now: new Date(T0),
      source: 'http',
    })[0];
    effects.push(...g.apply({ ...assign, id: 'assign' }));
    const fired = timerFired(effects[0], '2025-03-12T11:00:00.000Z');
    const once = decideSla(g.state, fired, { now: new Date('2025-03-12T11:00:01.000Z'), organisation: ORG });
    const twice = decideSla(g.state, fired, { now: new Date('2025-03-12T11:00:01.000Z'), organisation: ORG });
    expect(once.map((e) => [e.type, e.data])).toEqual([
      [
        'SlaBreached',
        {
          subject: 'conversation',
          id: 'k1',
          target: 'first-response',
          dueAt: '2025-03-12T11:00:00.000Z',
          team: 'support',
          priority: 'high',
        },
      ],
    ]);
    expect(once.map((e) => e.id)).toEqual(twice.map((e) => e.id));
    // met meanwhile: the same timer firing raises nothing
    const replied = decideConversation({ type: 'Reply', body: 'Hi', by: 'ana' }, conversationOf(g.state), {
      workspaceId: 'w',
      customerId: 'c1',
      now: new Date(T0),
      source: 'http',
    });
    let met = g.state;
    for (const e of replied) met = evolveSla(met, e);
    expect(decideSla(met, fired, { now: new Date('2025-03-12T11:00:01.000Z'), organisation: ORG })).toEqual([]);
  });

  it('given a breached first response, when handed to another team, then that target is not scheduled again', () => {
    const g = started();
    g.act({ type: 'Assign', team: 'support', priority: 'high', reason: 'queued' });
    const timer = g.state.conversations.get('k1')!.timers['first-response']!;
    const fired = timerFired(
      {
        data: {
          timerId: timer.timerId,
          payload: { subject: 'conversation', id: 'k1', target: 'first-response', team: 'support', priority: 'high' },
        },
      } as never,
      timer.dueAt,
    );
    expect(g.apply(fired, timer.dueAt).map((e) => e.type)).toEqual(['SlaBreached']);
    expect(summary(g.when({ type: 'Assign', team: 'billing', priority: 'normal', reason: 'manual' }))).toEqual(['cancelled reassigned']);
  });

  it('given a handoff to a team the workspace does not have, then nothing is scheduled', () => {
    const g = started();
    expect(g.when({ type: 'Assign', team: 'nobody', priority: 'high', reason: 'queued' })).toEqual([]);
  });
});

describe('taskTeam', () => {
  it('is the team an owner names, else the first team of the member it names', () => {
    expect(taskTeam('support', ORG)).toBe('support');
    expect(taskTeam('ana', ORG)).toBe('billing');
    expect(taskTeam('someone', ORG)).toBeUndefined();
    expect(taskTeam(undefined, ORG)).toBeUndefined();
  });
});

describe('literal', () => {
  it('wraps text in a raw block that no text can close', () => {
    expect(literal('a {{ b }} c')).toBe('{% raw %}a {{ b }} c{% endraw %}');
    expect(literal('x {% endraw %}{{ secrets.y }}')).toBe('{% raw %}x { % endraw %}{{ secrets.y }}{% endraw %}');
  });
});
