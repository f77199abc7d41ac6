import type { RecordedEvent } from '@journey/domain';
import type { DocLookup, PutDoc, StoredDoc } from '../projection';
import {
  CONVERSATION_CONTACTS,
  CONVERSATION_FACTS,
  CONVERSATION_MESSAGES,
  conversationAnalyticsProjection as projection,
  conversationFigures,
  nearestRank,
  type ConversationContactsDoc,
  type ConversationFactDoc,
  TASK_FACTS,
  type TaskFactDoc,
} from '.';
import { conversationHistory } from './conversation-analytics.fixture';

function storeOf(puts: PutDoc[], into = new Map<string, StoredDoc>()): Map<string, StoredDoc> {
  for (const p of puts) {
    const key = `${p.collection}/${p.id}`;
    if ((into.get(key)?.pos ?? -1n) < p.pos) into.set(key, { id: p.id, pos: p.pos, doc: p.doc });
  }
  return into;
}
const lookupIn =
  (docs: Map<string, StoredDoc>): DocLookup =>
  (ref) =>
    docs.get(`${ref.collection}/${ref.id}`);

/** Applies the events batch by batch (reads then apply), as the runner does. */
function project(events: RecordedEvent[], batchSize = 3): Map<string, StoredDoc> {
  const docs = new Map<string, StoredDoc>();
  for (let i = 0; i < events.length; i += batchSize) {
    const batch = events.slice(i, i + batchSize);
    const wanted = new Set(projection.reads(batch).map((r) => `${r.collection}/${r.id}`));
    storeOf(
      projection.apply(batch, (ref) => (wanted.has(`${ref.collection}/${ref.id}`) ? docs.get(`${ref.collection}/${ref.id}`) : undefined)),
      docs,
    );
  }
  return docs;
}
const docsIn = <T>(docs: Map<string, StoredDoc>, collection: string) =>
  [...docs.entries()].filter(([k]) => k.startsWith(`${collection}/`)).map(([, d]) => d.doc as T);

const events = conversationHistory();
const at = (day: number, time: string) => `2025-03-${String(day).padStart(2, '0')}T${time}Z`;

const period = { from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-15T00:00:00Z') };
const figuresOf = (docs: Map<string, StoredDoc>, groupBy?: 'team' | 'assignee' | 'priority' | 'channel') =>
  conversationFigures(
    docsIn<ConversationFactDoc>(docs, CONVERSATION_FACTS),
    docsIn<ConversationContactsDoc>(docs, CONVERSATION_CONTACTS),
    { ...period, groupBy },
    docsIn<TaskFactDoc>(docs, TASK_FACTS),
  );

describe('conversation-analytics projection', () => {
  const docs = project(events);

  it('keeps one fact document per conversation', () => {
    const facts = docsIn<ConversationFactDoc>(docs, CONVERSATION_FACTS);
    expect(facts.map((f) => f.conversationId).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    expect(facts.find((f) => f.conversationId === 'c1')).toMatchObject({
      customerId: 'a',
      channel: 'inbox',
      team: 'support',
      priority: 'high',
      firstResponseSeconds: 300,
      assigneeAtFirstResponse: 'ann',
      firstResponder: 'ann',
      resolutionSeconds: 3600,
      assigneeAtResolution: 'ann',
      personInvolved: 1,
      automated: 0,
      csat: 4,
      slaTargets: ['first-response', 'resolution'],
      slaBreaches: [],
    });
    expect(facts.find((f) => f.conversationId === 'c5')).toMatchObject({ reopened: 1, resolutions: 2, resolutionSeconds: 176_400 });
    expect(facts.find((f) => f.conversationId === 'c3')).toMatchObject({
      automated: 1,
      personInvolved: 0,
      slaBreaches: ['first-response'],
    });
    expect(facts.find((f) => f.conversationId === 'c4')).toMatchObject({ resolvedAt: null, firstResponseAt: null });
    expect(docsIn(docs, CONVERSATION_MESSAGES)).toContainEqual({
      workspaceId: 'w',
      customerId: 'a',
      conversationId: 'c1',
      messageId: `c1-r-${at(3, '10:05:00')}`,
    });
  });

  it('marks a resolution repeated when the customer writes again within 7 days, not beyond', () => {
    const contacts = docsIn<ConversationContactsDoc>(docs, CONVERSATION_CONTACTS);
    const of = (customer: string) => contacts.find((c) => c.customerId === customer)!.resolutions;
    expect(of('a')).toEqual([
      { conversationId: 'c1', at: '2025-03-03T11:00:00.000Z', repeatAt: '2025-03-06T10:00:00.000Z' },
      { conversationId: 'c2', at: '2025-03-06T10:02:00.000Z', repeatAt: null },
    ]);
    expect(of('b')).toEqual([{ conversationId: 'c3', at: '2025-03-03T12:10:00.000Z', repeatAt: null }]); // c4 came 10 days later
    expect(of('c').map((r) => r.repeatAt)).toEqual(['2025-03-06T09:00:00.000Z', null]); // the reopen by its reply
  });

  it('answers the figures: percentiles by nearest rank, SLA attainment, CSAT, repeat contact, engagement, automation', () => {
    const { overall } = figuresOf(docs);
    expect(overall.conversations).toBe(5);
    expect(overall.firstResponseSeconds).toEqual({ count: 4, p50: 120, p90: 1800 }); // 60, 120, 300, 1800
    expect(overall.resolutionSeconds).toEqual({ count: 4, p50: 600, p90: 176_400 }); // 120, 600, 3600, 176400
    expect(overall.sla).toEqual({
      withTarget: 3,
      met: 2,
      breached: 1,
      pending: 1,
      attainment: 0.6667,
      byTarget: {
        'first-response': { withTarget: 2, met: 1, breached: 1, pending: 1, attainment: 0.5 },
        resolution: { withTarget: 1, met: 1, breached: 0, pending: 0, attainment: 1 },
      },
    });
    expect(overall.csat).toEqual({ resolved: 4, rated: 2, average: 3, responseRate: 0.5 });
    expect(overall.repeatContact).toEqual({ resolutions: 5, repeated: 2, rate: 0.4 });
    expect(overall.engagement).toEqual({
      activeCustomers: 3,
      weeks: 2,
      conversations: 5,
      replies: 6,
      conversationsPerCustomerPerWeek: 0.8333,
      repliesPerCustomerPerWeek: 1,
    });
    expect(overall.automation).toEqual({ resolved: 4, automated: 2, rate: 0.5 });
  });

  it('measures the SLA of tasks: first response met by an assignment, resolution by the close', () => {
    expect(docsIn<TaskFactDoc>(docs, TASK_FACTS).find((t) => t.taskId === 'k1')).toMatchObject({
      customerId: 'a',
      team: 'success',
      priority: 'high',
      assignee: 'bob',
      assignedAt: '2025-03-04T09:30:00.000Z',
      closedAt: '2025-03-06T09:00:00.000Z',
      slaTargets: ['first-response', 'resolution'],
      slaBreaches: ['resolution'],
    });
    expect(figuresOf(docs).tasks).toEqual({
      opened: 2,
      closed: 1,
      sla: {
        withTarget: 2,
        met: 1,
        breached: 1,
        pending: 1,
        attainment: 0.5,
        byTarget: {
          'first-response': { withTarget: 1, met: 1, breached: 0, pending: 0, attainment: 1 },
          resolution: { withTarget: 1, met: 0, breached: 1, pending: 1, attainment: 0 },
        },
      },
    });
  });

  it('groups by team, assignee, priority and channel', () => {
    expect(figuresOf(docs, 'team').groups.map((g) => [g.key, g.conversations, g.resolutionSeconds.p50])).toEqual([
      ['', 3, 120],
      ['success', 1, 176_400],
      ['support', 1, 3600],
    ]);
    const byAssignee = figuresOf(docs, 'assignee').groups;
    expect(byAssignee.map((g) => [g.key, g.firstResponseSeconds.p50, g.automation.rate])).toEqual([
      ['', 60, 1],
      ['ann', 300, 0],
      ['bob', 1800, 0],
    ]);
    expect(figuresOf(docs, 'priority').groups.map((g) => [g.key, g.conversations])).toEqual([
      ['high', 1],
      ['normal', 4],
    ]);
    expect(figuresOf(docs, 'channel').groups.map((g) => g.key)).toEqual(['inbox']);
  });

  it('by assignee: the first response counts for who held it then, the rest for who resolved it', () => {
    const [c1] = docsIn<ConversationFactDoc>(docs, CONVERSATION_FACTS).filter((f) => f.conversationId === 'c1');
    const handedOver: ConversationFactDoc = { ...c1, assigneeAtResolution: 'bob', assignee: 'bob' };
    const groups = conversationFigures([handedOver], [], { ...period, groupBy: 'assignee' }).groups;
    expect(groups.map((g) => [g.key, g.conversations, g.firstResponseSeconds.count, g.resolutionSeconds.count])).toEqual([
      ['ann', 0, 1, 0],
      ['bob', 1, 0, 1],
    ]);
  });

  it('counts only the conversations started in the period', () => {
    const late = conversationFigures(docsIn(docs, CONVERSATION_FACTS), docsIn(docs, CONVERSATION_CONTACTS), {
      from: new Date('2025-03-10T00:00:00Z'),
      to: new Date('2025-03-17T00:00:00Z'),
    });
    expect(late.overall).toMatchObject({ conversations: 1, firstResponseSeconds: { count: 0, p50: null, p90: null } });
    expect(late.overall.engagement).toMatchObject({ activeCustomers: 1, weeks: 1, replies: 1, conversationsPerCustomerPerWeek: 1 });
  });

  it('is idempotent and independent of batching: replayed batches and other batch sizes give the same documents', () => {
    const once = project(events, 1000);
    expect(project(events, 1)).toEqual(once);
    expect(docs).toEqual(once);
    expect(projection.apply(events, lookupIn(once))).toEqual([]);
  });

  it('nearest rank: the smallest value with at least p% at or below it', () => {
    expect(nearestRank([], 50)).toBeNull();
    expect(nearestRank([7], 90)).toBe(7);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(nearestRank([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(nearestRank([1, 2, 3], 50)).toBe(2);
  });
});
