import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { customerStreamId, type JourneyEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { ProjectionsService } from '../projections/projections.service';

const CSM = 'Bearer csm-key-analytics-e2e';
const ANALYST = 'Bearer analyst-key-analytics-e2e';
const OTHER_WORKSPACE = 'Bearer other-ws-analyst-analytics-e2e';

let seq = 0;
function event(customerId: string, type: string, data: Record<string, unknown>, occurredAt: string): JourneyEvent {
  seq += 1;
  return {
    id: `00000000-0000-4000-9000-${String(seq).padStart(12, '0')}`,
    type,
    data,
    metadata: { workspaceId: 'default', customerId, occurredAt, recordedAt: occurredAt, source: 'test', schemaVersion: 1 },
  };
}
const at = (day: number, time: string) => `2025-03-${String(day).padStart(2, '0')}T${time}.000Z`;
const start = (c: string, id: string, when: string, channel = 'inbox') => [
  event(c, 'ConversationStarted', { conversationId: id, channel }, when),
  event(c, 'CustomerReplied', { conversationId: id, messageId: `${id}-m0`, channel, body: 'help' }, when),
];
const reply = (c: string, id: string, when: string, by?: string) =>
  event(
    c,
    'AgentReplied',
    {
      conversationId: id,
      messageId: `${id}-r-${when}`,
      channel: 'inbox',
      body: 'ok',
      ...(by ? { by } : { automated: true, triggerId: 't', runId: 'r' }),
    },
    when,
  );
const resolve = (c: string, id: string, when: string, by?: string) =>
  event(c, 'ConversationResolved', { conversationId: id, ...(by ? { by } : { automated: true }) }, when);

describe('GET /v1/analytics/conversations over HTTP', () => {
  let engine: TestEngine;
  let dataDir: string;
  let http: ReturnType<typeof request>;
  let store: EventStore;
  const get = (query: Record<string, string>, key = ANALYST) =>
    http.get('/v1/analytics/conversations').query(query).set('Authorization', key);
  const period = { from: '2025-03-01T00:00:00Z', to: '2025-03-15T00:00:00Z' };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-analytics-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'csm-key-analytics-e2e', workspaceId: 'default', role: 'csm' },
          { key: 'analyst-key-analytics-e2e', workspaceId: 'default', role: 'analyst' },
          { key: 'other-ws-analyst-analytics-e2e', workspaceId: 'other', role: 'analyst' },
        ],
      }),
    );
    // The API and the projections only: no reactor adds events (SLA timers, assignments) to the history under test.
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api,projector' } });
    http = request(engine.app.getHttpServer());
    store = engine.app.get<EventStore>(EVENT_STORE);
    const projections = engine.app.get(ProjectionsService);
    // appended in several writes, each projected before the next: the live model is built batch after batch
    const appends: Array<[string, JourneyEvent[]]> = [
      [
        'a',
        [
          ...start('a', 'c1', at(3, '10:00:00')),
          event(
            'a',
            'TimerScheduled',
            {
              timerId: 's1',
              dueAt: at(3, '11:00:00'),
              purpose: 'sla',
              payload: { subject: 'conversation', id: 'c1', target: 'first-response', team: 'support', priority: 'high' },
            },
            at(3, '10:00:00'),
          ),
          event(
            'a',
            'ConversationAssigned',
            { conversationId: 'c1', team: 'support', assignee: 'ann', priority: 'high', reason: 'least-loaded' },
            at(3, '10:00:01'),
          ),
        ],
      ],
      ['b', [...start('b', 'c3', at(3, '12:00:00'))]],
      ['a', [reply('a', 'c1', at(3, '10:05:00'), 'ann'), resolve('a', 'c1', at(3, '11:00:00'), 'ann')]],
      [
        'b',
        [
          event(
            'b',
            'TimerScheduled',
            {
              timerId: 's3',
              dueAt: at(3, '12:01:00'),
              purpose: 'sla',
              payload: { subject: 'conversation', id: 'c3', target: 'first-response', priority: 'normal' },
            },
            at(3, '12:00:00'),
          ),
          event(
            'b',
            'SlaBreached',
            { subject: 'conversation', id: 'c3', target: 'first-response', dueAt: at(3, '12:01:00'), priority: 'normal' },
            at(3, '12:01:00'),
          ),
          reply('b', 'c3', at(3, '12:02:00')),
          resolve('b', 'c3', at(3, '12:10:00')),
        ],
      ],
      ['a', [event('a', 'SatisfactionRated', { conversationId: 'c1', score: 4, comment: 'quick' }, at(3, '11:30:00'))]],
      ['a', [...start('a', 'c2', at(6, '10:00:00'), 'email'), reply('a', 'c2', at(6, '10:01:00')), resolve('a', 'c2', at(6, '10:02:00'))]],
      ['b', [...start('b', 'c4', at(13, '13:00:00'))]],
    ];
    for (const [customer, events] of appends) {
      await store.appendToStream(customerStreamId('default', customer), events);
      await projections.waitForCatchUp();
    }
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers the figures of the period to analyst, csm and admin keys', async () => {
    const res = await get(period).expect(200);
    expect(res.body).toMatchObject({ from: '2025-03-01T00:00:00.000Z', to: '2025-03-15T00:00:00.000Z', groupBy: null, groups: [] });
    expect(res.body.method.percentiles).toContain('nearest rank');
    expect(res.body.method.durations).toContain('wall-clock');
    expect(res.body.overall).toMatchObject({
      conversations: 4,
      firstResponseSeconds: { count: 3, p50: 120, p90: 300 }, // 60 (c2), 120 (c3), 300 (c1)
      resolutionSeconds: { count: 3, p50: 600, p90: 3600 }, // 120, 600, 3600
      sla: { withTarget: 2, met: 1, breached: 1, pending: 0, attainment: 0.5 },
      csat: { resolved: 3, rated: 1, average: 4, responseRate: 0.3333 },
      repeatContact: { resolutions: 3, repeated: 1, rate: 0.3333 }, // c1, then c2 three days later; c4 is 10 days after c3
      engagement: {
        activeCustomers: 2,
        weeks: 2,
        conversations: 4,
        replies: 4,
        conversationsPerCustomerPerWeek: 1,
        repliesPerCustomerPerWeek: 1,
      },
      automation: { resolved: 3, automated: 2, rate: 0.6667 },
    });
    await get(period, CSM).expect(200);
    await get(period, engine.auth.admin).expect(200);
  });

  it('groups by team, assignee, priority and channel', async () => {
    const keys = async (groupBy: string) =>
      (await get({ ...period, groupBy }).expect(200)).body.groups.map((g: { key: string; conversations: number }) => [
        g.key,
        g.conversations,
      ]);
    expect(await keys('team')).toEqual([
      ['', 3],
      ['support', 1],
    ]);
    expect(await keys('assignee')).toEqual([
      ['', 3],
      ['ann', 1],
    ]);
    expect(await keys('priority')).toEqual([
      ['high', 1],
      ['normal', 3],
    ]);
    expect(await keys('channel')).toEqual([
      ['email', 1],
      ['inbox', 3],
    ]);
  });

  it('answers 400 naming the parameter that is wrong', async () => {
    const bad = async (query: Record<string, string> | string, words: string) => {
      const res = await (
        typeof query === 'string' ? http.get(`/v1/analytics/conversations?${query}`).set('Authorization', ANALYST) : get(query)
      ).expect(400);
      expect(res.body.message).toContain(words);
    };
    await bad({ from: 'last week' }, 'from must be an ISO 8601');
    await bad({ to: '2025-13-45T00:00:00Z' }, 'to must be an ISO 8601');
    await bad({ from: '2025-03-15T00:00:00Z', to: '2025-03-01T00:00:00Z' }, 'from must be before to');
    await bad({ from: '2000-01-01T00:00:00Z', to: '2025-03-01T00:00:00Z' }, 'at most');
    await bad({ ...period, groupBy: 'customer' }, 'groupBy must be one of team, assignee, priority, channel');
    await bad({ ...period, group: 'team' }, 'unknown query parameter "group"');
    await bad('groupBy=team&groupBy=channel', 'groupBy must be one of');
    await bad('from=2025-03-01&from=2025-03-02', 'from must be an ISO 8601');
  });

  it('refuses write keys and missing keys, and keeps workspaces apart', async () => {
    await get(period, engine.auth.write).expect(403);
    await http.get('/v1/analytics/conversations').expect(401);
    const other = await get(period, OTHER_WORKSPACE).expect(200);
    expect(other.body.overall).toMatchObject({ conversations: 0, engagement: { activeCustomers: 0, replies: 0 } });
  });

  it('exports the conversation metrics to Prometheus, by team, priority and channel and not per person', async () => {
    const metrics = await eventually(async () => {
      const text = (await http.get('/metrics').set('Authorization', engine.auth.admin).expect(200)).text;
      if (!text.includes('conversations_resolved_total{automated="false"} 1')) throw new Error('not counted yet');
      return text;
    });
    expect(metrics).toContain('conversations_started_total{channel="inbox"} 3');
    expect(metrics).toContain('conversations_started_total{channel="email"} 1');
    expect(metrics).toContain('conversations_resolved_total{automated="true"} 2');
    expect(metrics).toContain('sla_breaches_total{target="first-response"} 1');
    expect(metrics).toContain('csat_ratings_total{score="4"} 1');
    expect(metrics).toContain('conversation_first_response_seconds_count{team="support",priority="high",channel="inbox"} 1');
    expect(metrics).toContain('conversation_first_response_seconds_sum{team="support",priority="high",channel="inbox"} 300');
    expect(metrics).toContain('conversation_resolution_seconds_sum{team="",priority="normal",channel="inbox"} 600');
    expect(metrics).not.toMatch(/conversation_[a-z_]+\{[^}]*(assignee|member)=/);
  });

  it('rebuilds from zero to exactly the live figures', async () => {
    const groupings = ['', 'team', 'assignee', 'priority', 'channel'];
    const answers = async () =>
      Promise.all(groupings.map(async (groupBy) => (await get(groupBy ? { ...period, groupBy } : period).expect(200)).body));
    const live = await answers();
    const rebuilt = await http
      .post('/v1/admin/projections/conversation-analytics/rebuild')
      .set('Authorization', engine.auth.admin)
      .expect(200);
    expect(rebuilt.body).toMatchObject({
      projection: 'conversation-analytics',
      identical: true,
      documents: { conversation_facts: 4, conversation_contacts: 2, conversation_messages: 3 },
      differences: { conversation_facts: 0, conversation_contacts: 0, conversation_messages: 0 },
    });
    expect(await answers()).toEqual(live);
  });

  it('explains an automated reply in a conversation (the conversation and the trigger run) and a message sent in one', async () => {
    const when = '2025-04-01T09:00:00.000Z';
    const caused = (e: JourneyEvent, cause: JourneyEvent): JourneyEvent => ({ ...e, metadata: { ...e.metadata, causationId: cause.id } });
    const [started, wrote] = start('d', 'c9', when);
    const matched = caused(
      event('d', 'TriggerMatched', { triggerId: 'faq', version: 1, runId: 'run9', causingEventId: wrote.id }, when),
      wrote,
    );
    const step = caused(
      event('d', 'TriggerRunStepEntered', { triggerId: 'faq', version: 1, runId: 'run9', step: '0', kind: 'reply' }, when),
      matched,
    );
    const answer = caused(
      event(
        'd',
        'AgentReplied',
        {
          conversationId: 'c9',
          messageId: 'auto-9',
          channel: 'inbox',
          body: 'See the docs',
          automated: true,
          triggerId: 'faq',
          runId: 'run9',
        },
        when,
      ),
      step,
    );
    const handoff = event(
      'd',
      'ConversationAssigned',
      { conversationId: 'c9', team: 'support', assignee: 'ann', priority: 'high', reason: 'least-loaded' },
      when,
    );
    const human = event(
      'd',
      'AgentReplied',
      { conversationId: 'c9', messageId: 'mail-9', channel: 'email', body: 'Here you go', by: 'ann' },
      when,
    );
    const mail = event(
      'd',
      'MessageScheduled',
      { messageId: 'mail-9', channel: 'email', template: { body: 'Here you go' }, conversationId: 'c9' },
      when,
    );
    await store.appendToStream(customerStreamId('default', 'd'), [started, wrote, matched, step, answer, handoff, human, mail]);
    await engine.app.get(ProjectionsService).waitForCatchUp();

    const auto = await http.get('/v1/messages/auto-9/explain').set('Authorization', CSM).expect(200);
    expect(auto.body).toMatchObject({
      messageId: 'auto-9',
      customerId: 'd',
      status: 'replied',
      decision: { event: { type: 'AgentReplied', detail: 'automated by trigger faq' }, outcome: 'replied' },
      causedBy: [{ type: 'TriggerRunStepEntered' }, { type: 'TriggerMatched' }, { type: 'CustomerReplied' }],
      trigger: {
        id: 'faq',
        version: 1,
        runId: 'run9',
        run: [{ type: 'TriggerMatched' }, { type: 'TriggerRunStepEntered', detail: 'step 0 (reply)' }],
      },
      conversation: {
        conversationId: 'c9',
        channel: 'inbox',
        status: 'open',
        held: false,
        reply: { messageId: 'auto-9', automated: true, triggerId: 'faq', runId: 'run9' },
        events: [{ type: 'ConversationStarted' }, { type: 'CustomerReplied' }, { type: 'AgentReplied' }],
      },
    });
    const sent = await http.get('/v1/messages/mail-9/explain').set('Authorization', CSM).expect(200);
    expect(sent.body).toMatchObject({
      messageId: 'mail-9',
      status: 'scheduled',
      conversation: {
        conversationId: 'c9',
        team: 'support',
        assignee: 'ann',
        held: true,
        reply: { messageId: 'mail-9', by: 'ann', automated: false },
      },
    });
    expect(sent.body.conversation.events.map((e: { type: string }) => e.type)).toEqual([
      'ConversationStarted',
      'CustomerReplied',
      'AgentReplied',
      'ConversationAssigned',
      'AgentReplied',
    ]);
    await http.get('/v1/messages/nope/explain').set('Authorization', CSM).expect(404);
  });

  it("shows the conversation on the customer's timeline, members named from the teams stream", async () => {
    await store.appendToStream('teams-default', [
      { ...event('', 'MemberDefined', { memberId: 'ann', name: 'Ann', teams: ['support'] }, '2025-01-01T00:00:00.000Z') },
    ]);
    const res = await http.get('/v1/customers/d/timeline').set('Authorization', CSM).expect(200);
    expect(res.body.entries.filter((e: { kind: string }) => e.kind === 'conversation').map((e: { summary: string }) => e.summary)).toEqual([
      'Conversation started on inbox by The customer',
      'The customer replied on inbox: help',
      'Automation (trigger faq) replied on inbox: See the docs',
      'Assigned to Ann (ann, least-loaded) in support, high',
      'Ann (ann) replied on email: Here you go',
    ]);
  });
});
