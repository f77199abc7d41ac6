import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, type EventDataByType, type EventType, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { SqliteEventStore, openSqliteDatabase } from '@journey/event-store';
import type { DocLookup, PutDoc, StoredDoc } from '../projection';
import { ProjectionRunner, rebuildProjection } from '../runner';
import { SqliteReadModelStore } from '../sqlite/sqlite-read-model-store';
import { NO_DUE, WORK, WORK_CUSTOMERS, workDocId, workProjection, type WorkDoc } from './work.projection';

let position = 0n;
let n = 0;
function journey<T extends EventType>(
  customerId: string,
  type: T,
  data: EventDataByType[T],
  at = '2026-03-02T10:00:00.000Z',
): JourneyEvent {
  n += 1;
  return {
    id: `w-${n}`,
    type,
    data: data as never,
    metadata: { workspaceId: 'acme', customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
  };
}
const recorded = (e: JourneyEvent): RecordedEvent => ({
  ...e,
  streamId: customerStreamId(e.metadata.workspaceId, e.metadata.customerId),
  revision: 0n,
  position: ++position,
});

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
/** Applies the events one batch of `size` after the other, as the runner does. */
function project(events: RecordedEvent[], size = events.length): Map<string, StoredDoc> {
  const docs = new Map<string, StoredDoc>();
  for (let i = 0; i < events.length; i += size) storeOf(workProjection.apply(events.slice(i, i + size), lookupIn(docs)), docs);
  return docs;
}
const work = (docs: Map<string, StoredDoc>, kind: 'conversation' | 'task', customer: string, item: string) =>
  docs.get(`${WORK}/${workDocId(kind, 'acme', customer, item)}`)?.doc as WorkDoc | undefined;

const sla = (timerId: string, subject: 'conversation' | 'task', id: string, target: string, dueAt: string, team = 'support') =>
  journey('bob', 'TimerScheduled', { timerId, dueAt, purpose: 'sla', payload: { subject, id, target, team, priority: 'high' } });

/** A conversation and a task of bob, with SLA timers, a note, a breach and a resolution. */
function history(): JourneyEvent[] {
  const long = 'x'.repeat(300);
  return [
    journey('bob', 'ConversationStarted', { conversationId: 'c1', channel: 'email', subject: 'Invoice' }, '2026-03-02T09:00:00Z'),
    journey('bob', 'CustomerReplied', { conversationId: 'c1', messageId: 'm1', channel: 'email', body: long }, '2026-03-02T09:00:00Z'),
    journey('bob', 'ConversationAssigned', { conversationId: 'c1', team: 'support', priority: 'high', reason: 'queued' }),
    sla('t-fr', 'conversation', 'c1', 'first-response', '2026-03-02T11:00:00.000Z'),
    sla('t-res', 'conversation', 'c1', 'resolution', '2026-03-03T17:00:00.000Z'),
    journey('bob', 'ConversationAssigned', {
      conversationId: 'c1',
      team: 'support',
      assignee: 'ann',
      priority: 'high',
      reason: 'least-loaded',
    }),
    journey(
      'bob',
      'InternalNoteAdded',
      { conversationId: 'c1', noteId: 'n1', body: 'SECRET: he owes us money', by: 'ann' },
      '2026-03-02T10:05:00Z',
    ),
    journey('bob', 'CsmTaskOpened', { taskId: 'k1', title: 'Call Bob', owner: 'ann', priority: 'urgent', dueAt: '2026-03-05T12:00:00Z' }),
    journey('bob', 'TimerCancelled', { timerId: 't-fr', reason: 'met' }),
    journey('other', 'InteractionRecorded', { event: 'Clicked', properties: {} }),
  ];
}

describe('work projection', () => {
  it('puts one document per conversation and per task: who holds it, when it is due, what the list shows', () => {
    const docs = project(history().map(recorded));
    const c1 = work(docs, 'conversation', 'bob', 'c1')!;
    expect(c1).toMatchObject({
      workspaceId: 'acme',
      kind: 'conversation',
      itemId: 'c1',
      customerId: 'bob',
      assignee: 'ann',
      team: 'support',
      status: 'open',
      open: 1,
      priority: 'high',
      // the first-response timer was cancelled (met): the resolution target is what is due now
      dueAt: '2026-03-03T17:00:00.000Z',
      title: 'Invoice',
      channel: 'email',
      lastFrom: 'note',
      lastMessageId: 'm1',
      waitingOn: 'agent',
      slaBreached: 0,
      version: 5,
    });
    expect(c1.preview).toHaveLength(140);
    expect(JSON.stringify([...docs.values()].map((d) => d.doc))).not.toContain('SECRET');
    expect(work(docs, 'task', 'bob', 'k1')).toMatchObject({
      kind: 'task',
      assignee: 'ann',
      team: '',
      status: 'open',
      open: 1,
      priority: 'urgent',
      dueAt: '2026-03-05T12:00:00.000Z',
      title: 'Call Bob',
    });
    expect([...docs.keys()].filter((k) => k.startsWith(`${WORK}/`))).toHaveLength(2);
    expect(docs.has(`${WORK_CUSTOMERS}/acme/other`)).toBe(false);
  });

  it('orders by due time, then priority (urgent first), then the last change', () => {
    const events = [
      journey('a', 'CsmTaskOpened', { taskId: 'low', title: 'x', owner: 'ann', priority: 'low', dueAt: '2026-03-01T00:00:00Z' }),
      journey('a', 'CsmTaskOpened', { taskId: 'none', title: 'x', owner: 'ann', priority: 'urgent' }),
      journey('a', 'CsmTaskOpened', { taskId: 'urgent', title: 'x', owner: 'ann', priority: 'urgent', dueAt: '2026-03-01T00:00:00Z' }),
      journey(
        'a',
        'CsmTaskOpened',
        { taskId: 'later', title: 'x', owner: 'ann', priority: 'normal', dueAt: '2026-03-01T00:00:00Z' },
        '2026-03-02T11:00:00Z',
      ),
      journey(
        'a',
        'CsmTaskOpened',
        { taskId: 'earlier', title: 'x', owner: 'ann', priority: 'normal', dueAt: '2026-03-01T00:00:00Z' },
        '2026-03-02T09:00:00Z',
      ),
    ].map(recorded);
    const docs = [...project(events).values()].filter((d) => d.id.startsWith('task:')).map((d) => d.doc as unknown as WorkDoc);
    expect(docs.sort((x, y) => (x.sortKey < y.sortKey ? -1 : 1)).map((d) => d.itemId)).toEqual([
      'urgent',
      'earlier',
      'later',
      'low',
      'none',
    ]);
    expect(docs.find((d) => d.itemId === 'none')!.dueAt).toBe(NO_DUE);
  });

  it('keeps a missed SLA target due until it is met, flags the breach, and closes resolved and closed items', () => {
    const events = [
      ...history(),
      journey('bob', 'TimerFired', { timerId: 't-res', purpose: 'sla', payload: {} }),
      journey('bob', 'SlaBreached', {
        subject: 'conversation',
        id: 'c1',
        target: 'resolution',
        dueAt: '2026-03-03T17:00:00Z',
        priority: 'high',
      }),
    ].map(recorded);
    const breached = project(events);
    expect(work(breached, 'conversation', 'bob', 'c1')).toMatchObject({
      slaBreached: 1,
      breaches: ['resolution'],
      dueAt: '2026-03-03T17:00:00.000Z',
    });
    const more = [
      journey('bob', 'ConversationResolved', { conversationId: 'c1', by: 'ann' }),
      journey('bob', 'CsmTaskClosed', { taskId: 'k1', resolution: 'closed', outcome: 'called', by: 'ann' }),
    ].map(recorded);
    const done = project([...events, ...more]);
    expect(work(done, 'conversation', 'bob', 'c1')).toMatchObject({ status: 'resolved', open: 0, dueAt: NO_DUE });
    expect(work(done, 'task', 'bob', 'k1')).toMatchObject({ status: 'closed', open: 0, dueAt: NO_DUE });
    // the customer's state keeps what may change again: a resolved conversation (it may reopen), not a closed task
    const state = done.get(`${WORK_CUSTOMERS}/acme/bob`)!.doc as { items: Record<string, unknown> };
    expect(Object.keys(state.items)).toEqual([workDocId('conversation', 'acme', 'bob', 'c1')]);
    const reopened = project([
      ...events,
      ...more,
      recorded(journey('bob', 'ConversationReopened', { conversationId: 'c1', reason: 'customer-replied' })),
      recorded(journey('bob', 'CustomerReplied', { conversationId: 'c1', messageId: 'm9', channel: 'email', body: 'still broken' })),
    ]);
    expect(work(reopened, 'conversation', 'bob', 'c1')).toMatchObject({
      status: 'open',
      open: 1,
      slaBreached: 0,
      preview: 'still broken',
      lastFrom: 'customer',
      lastMessageId: 'm9',
      assignee: 'ann',
    });
  });

  it("given a team, a task opened for it waits in the team's queue (no assignee) until a member is given it", () => {
    const teamDefined: RecordedEvent = {
      ...journey('', 'TeamDefined', { teamId: 'success', name: 'Success', timeZone: 'UTC' }),
      streamId: 'teams-acme',
      revision: 0n,
      position: ++position,
    };
    const opened = recorded(journey('bob', 'CsmTaskOpened', { taskId: 'k9', title: 'Renewal call', owner: 'success', priority: 'high' }));
    const queued = project([teamDefined, opened]);
    expect(work(queued, 'task', 'bob', 'k9')).toMatchObject({ team: 'success', assignee: '', open: 1 });
    const assigned = recorded(journey('bob', 'CsmTaskAssigned', { taskId: 'k9', assignee: 'ann', reason: 'least-loaded' }));
    expect(work(project([teamDefined, opened, assigned]), 'task', 'bob', 'k9')).toMatchObject({ team: 'success', assignee: 'ann' });
    // an owner that names no team is the member who holds it
    const owned = recorded(journey('bob', 'CsmTaskOpened', { taskId: 'k8', title: 'Check in', owner: 'lee', priority: 'low' }));
    expect(work(project([teamDefined, owned]), 'task', 'bob', 'k8')).toMatchObject({ team: '', assignee: 'lee' });
  });

  it('empties and closes the items of a forgotten customer', () => {
    const docs = project([...history(), journey('bob', 'CustomerForgotten', {})].map(recorded));
    expect(work(docs, 'conversation', 'bob', 'c1')).toMatchObject({ open: 0, preview: '', title: '', assignee: '' });
    expect(work(docs, 'task', 'bob', 'k1')).toMatchObject({ open: 0, status: 'closed', title: '' });
  });

  it('gives the same documents whatever the batches, and is idempotent over a replayed batch', () => {
    const events = history().map(recorded);
    const once = project(events);
    for (const size of [1, 2, 3, 7]) expect(project(events, size)).toEqual(once);
    expect(workProjection.apply(events, lookupIn(once))).toEqual([]);
  });

  it('after a crash between the writes of a batch (the customer state written, an item not), puts the item again', () => {
    const events = history().map(recorded);
    const once = project(events);
    const torn = new Map([...once].filter(([k]) => !k.startsWith(`${WORK}/task:`)));
    const replayed = storeOf(workProjection.apply(events, lookupIn(torn)), torn);
    expect(replayed).toEqual(once);
  });
});

describe('work projection in SQLite: rebuild from zero equals live', () => {
  const dir = mkdtempSync(join(tmpdir(), 'journey-work-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('projects live in small batches, then a rebuild finds no difference', async () => {
    const db = openSqliteDatabase(join(dir, 'work.db'), { synchronous: 'NORMAL' });
    const events = new SqliteEventStore(db);
    const store = new SqliteReadModelStore(db);
    const runner = new ProjectionRunner(workProjection, events, store, { batchSize: 3 });
    await runner.start();
    const all = [
      ...history(),
      journey('bob', 'SlaBreached', { subject: 'task', id: 'k1', target: 'resolution', dueAt: '2026-03-05T12:00:00Z', priority: 'urgent' }),
      journey('bob', 'ConversationSnoozed', { conversationId: 'c1', until: '2026-03-09T00:00:00Z', by: 'ann' }),
    ];
    for (const e of all) await events.appendToStream(customerStreamId('acme', e.metadata.customerId), [e]);
    await runner.waitFor(await events.headPosition());
    await runner.stop();
    const live = await store.find<WorkDoc>(WORK, { workspaceId: 'acme', assignee: 'ann', open: 1 }, { orderBy: ['sortKey'] });
    expect(live.map((d) => [d.doc.itemId, d.doc.status])).toEqual([
      ['c1', 'snoozed'],
      ['k1', 'open'],
    ]);
    const report = await rebuildProjection(events, store, workProjection);
    expect(report).toMatchObject({
      identical: true,
      documents: { work: 2, work_customers: 1 },
      differences: { work: 0, work_customers: 0, work_teams: 0 },
    });
    db.close();
  });
});
