import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, deterministicId, envelope, type EventDataByType, type EventType } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { hashKey, keyIdOf } from '../auth/api-keys';
import { ConversationsService } from '../conversations/conversations.service';
import { OrganisationService } from '../conversations/organisation.service';
import { ProjectionsService } from '../projections/projections.service';
import { WorkFeed, type WorkChange } from './work-feed';
import type { WorkItemView, WorkPage } from './work.query';

const CSM_KEY = 'csm-key-work-e2e';
const ANALYST_KEY = 'analyst-key-work-e2e';
const OTHER_KEY = 'other-ws-admin-work-e2e';
/** A csm key that belongs to no member acts as `key:<keyId>` (COMMON: the `by` of a person). */
const CSM_ACTOR = `key:${keyIdOf(hashKey(CSM_KEY))}`;

let seq = 0;
function event<T extends EventType>(customerId: string, type: T, data: EventDataByType[T]) {
  const at = new Date().toISOString();
  return envelope({
    id: deterministicId('work-e2e', customerId, type, ++seq),
    type,
    data,
    workspaceId: 'default',
    customerId,
    occurredAt: at,
    recordedAt: at,
    source: 'test',
  });
}

/** Reads an SSE response: its events as they arrive. */
function sse(res: Response) {
  const events: Array<{ event: string; data: unknown }> = [];
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const done = (async () => {
    for (;;) {
      const { value, done: end } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (end) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data) events.push({ event: name, data: JSON.parse(data) });
      }
    }
  })();
  return { events, close: async () => (await reader.cancel().catch(() => undefined), await done) };
}

describe('GET /v1/work and /v1/work/stream', () => {
  let engine: TestEngine;
  let dataDir: string;
  let store: EventStore;
  let conversations: ConversationsService;
  const get = async (path: string, key = engine.adminKey) => {
    const res = await fetch(`${engine.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, body: (await res.json()) as WorkPage & { message?: string } };
  };
  const ids = (page: WorkPage) => page.items.map((i) => i.itemId);

  /** A conversation of `customer` started by a message, assigned as given. */
  async function conversation(
    customer: string,
    body: string,
    assign?: { team?: string; assignee?: string; priority?: 'low' | 'normal' | 'high' | 'urgent' },
  ) {
    const { conversation: c } = await conversations.receive('default', customer, { channel: 'inbox', body }, 'test');
    if (assign)
      await conversations.act('default', customer, c.conversationId, { type: 'Assign', reason: 'manual', ...assign }, { source: 'test' });
    return c.conversationId;
  }
  const caughtUp = () => engine.app.get(ProjectionsService).waitForCatchUp();

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-work-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: CSM_KEY, workspaceId: 'default', role: 'csm' },
          { key: ANALYST_KEY, workspaceId: 'default', role: 'analyst' },
          { key: OTHER_KEY, workspaceId: 'other', role: 'admin' },
        ],
      }),
    );
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api,projector' } });
    store = engine.app.get<EventStore>(EVENT_STORE);
    conversations = engine.app.get(ConversationsService);
    await engine.app
      .get(OrganisationService)
      .decide('default', { type: 'DefineTeam', team: { teamId: 'support', name: 'Support', timeZone: 'UTC' } });
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers a member's open items, due first, then by priority, filtered and paged", async () => {
    const urgent = await conversation('u1', 'Site is down', { team: 'support', assignee: 'ann', priority: 'urgent' });
    const normal = await conversation('u2', 'Question', { team: 'support', assignee: 'ann' });
    const due = await conversation('u3', 'Refund please', { team: 'support', assignee: 'ann', priority: 'low' });
    await conversation('u4', 'Not hers', { team: 'support', assignee: 'bea', priority: 'urgent' });
    const queued = await conversation('u5', 'Nobody yet', { team: 'support', priority: 'high' });
    const resolved = await conversation('u6', 'Thanks', { team: 'support', assignee: 'ann' });
    await conversations.act('default', 'u6', resolved, { type: 'Resolve', by: 'ann' }, { source: 'test' });
    const snoozed = await conversation('u7', 'Later', { team: 'support', assignee: 'ann', priority: 'high' });
    await conversations.act(
      'default',
      'u7',
      snoozed,
      { type: 'Snooze', until: new Date(Date.now() + 86_400_000).toISOString() },
      { source: 'test' },
    );
    await store.appendToStream(customerStreamId('default', 'u3'), [
      event('u3', 'TimerScheduled', {
        timerId: 'sla-u3',
        dueAt: '2026-01-01T10:00:00.000Z',
        purpose: 'sla',
        payload: { subject: 'conversation', id: due, target: 'first-response', team: 'support', priority: 'low' },
      }),
    ]);
    await store.appendToStream(customerStreamId('default', 'u8'), [
      event('u8', 'CsmTaskOpened', {
        taskId: 'call-u8',
        title: 'Call u8',
        owner: 'ann',
        priority: 'normal',
        dueAt: '2026-06-01T00:00:00Z',
      }),
    ]);
    await caughtUp();

    const all = await get('/v1/work?assignee=ann');
    expect(all.status).toBe(200);
    // due first (the SLA timer, then the task's due time), then urgent before high before normal
    expect(ids(all.body)).toEqual([due, 'call-u8', urgent, snoozed, normal]);
    const first = all.body.items[0];
    expect(first).toMatchObject<Partial<WorkItemView>>({
      kind: 'conversation',
      customerId: 'u3',
      assignee: 'ann',
      team: 'support',
      status: 'open',
      priority: 'low',
      dueAt: '2026-01-01T10:00:00.000Z',
      preview: 'Refund please',
      lastFrom: 'customer',
      waitingOn: 'agent',
      slaBreached: false,
    });
    expect(all.body.items[1]).toMatchObject({ kind: 'task', title: 'Call u8', dueAt: '2026-06-01T00:00:00.000Z' });
    expect(all.body.nextCursor).toBeUndefined();

    expect(ids((await get('/v1/work?assignee=ann&status=snoozed')).body)).toEqual([snoozed]);
    expect(ids((await get('/v1/work?assignee=ann&status=open&priority=urgent')).body)).toEqual([urgent]);
    expect(ids((await get('/v1/work?assignee=ann&kind=task')).body)).toEqual(['call-u8']);
    expect(ids((await get('/v1/work?assignee=none&team=support')).body)).toEqual([queued]);
    expect(ids((await get('/v1/work?team=support&priority=urgent', ANALYST_KEY)).body).sort()).toEqual(
      [urgent, (await get('/v1/work?assignee=bea')).body.items[0].itemId].sort(),
    );

    // pages of two, the cursor of each leading to the next
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await get(`/v1/work?assignee=ann&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...ids(page.body));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids(all.body));

    // another workspace sees none of it
    expect((await get('/v1/work?assignee=ann', OTHER_KEY)).body.items).toEqual([]);
  });

  it('gives a csm key its own items, refuses it the work of others, and answers bad filters with a 400 naming them', async () => {
    const mine = await conversation('c1', 'For the csm', { team: 'support', assignee: CSM_ACTOR });
    await caughtUp();
    expect(ids((await get('/v1/work', CSM_KEY)).body)).toEqual([mine]);
    expect(ids((await get('/v1/work?assignee=me', CSM_KEY)).body)).toEqual([mine]);
    expect((await get('/v1/work?assignee=ann', CSM_KEY)).status).toBe(403);
    expect((await get('/v1/work?assignee=none&team=support', CSM_KEY)).status).toBe(403); // not a member of it
    for (const [query, names] of [
      ['status=resolved', 'status'],
      ['priority=p1', 'priority'],
      ['kind=ticket', 'kind'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['cursor=nonsense', 'cursor'],
      ['assignee=none', 'team'],
      ['sort=dueAt', 'sort'],
      ['team=a&team=b', 'team'],
    ]) {
      const res = await get(`/v1/work?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expect(res.body.message).toContain(names);
    }
  });

  it('pushes a reply in a conversation assigned to the member on their stream, and nothing of others', async () => {
    // assigned before the stream opens: who holds it is read from the work read model
    const before = await conversation('s1', 'Hello', { team: 'support', assignee: 'ann' });
    const others = await conversation('s2', 'Not for ann', { team: 'support', assignee: 'bea' });
    await caughtUp();
    const res = await fetch(`${engine.url}/v1/work/stream?assignee=ann`, { headers: { authorization: `Bearer ${engine.adminKey}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const stream = sse(res);
    try {
      await eventually(() => expect(stream.events[0]?.event).toBe('ready'));
      await conversations.receive('default', 's2', { channel: 'inbox', body: 'Bea, are you there?', conversationId: others }, 'test');
      const { conversation: c } = await conversations.receive(
        'default',
        's1',
        { channel: 'inbox', body: 'Any news?', conversationId: before },
        'test',
      );
      const replied = c.thread.at(-1)!.messageId;
      await eventually(() =>
        expect(stream.events.map((e) => e.data as WorkChange)).toContainEqual(
          expect.objectContaining({ type: 'CustomerReplied', itemId: before, assignee: 'ann', messageId: replied, preview: 'Any news?' }),
        ),
      );
      // a new conversation handed to ann while the stream is open (its holder known from the feed itself), a note in it
      const later = await conversation('s3', 'New one', { team: 'support', assignee: 'ann' });
      await conversations.act('default', 's3', later, { type: 'AddNote', body: 'TOP SECRET', by: 'ann' }, { source: 'test' });
      await eventually(() =>
        expect(stream.events.map((e) => (e.data as WorkChange).type)).toEqual(
          expect.arrayContaining(['ConversationAssigned', 'InternalNoteAdded']),
        ),
      );
      // reassigned away from ann: pushed to her too (it leaves her queue)
      await conversations.act('default', 's3', later, { type: 'Assign', reason: 'manual', assignee: 'bea' }, { source: 'test' });
      await eventually(() =>
        expect(stream.events.map((e) => e.data as WorkChange)).toContainEqual(
          expect.objectContaining({ type: 'ConversationAssigned', itemId: later, assignee: 'bea' }),
        ),
      );
      const pushed = stream.events.filter((e) => e.event === 'work').map((e) => e.data as WorkChange);
      expect(pushed.some((c) => c.itemId === others)).toBe(false);
      expect(JSON.stringify(pushed)).not.toContain('TOP SECRET');
      expect(engine.app.get(WorkFeed).listening('default')).toBe(1);
    } finally {
      await stream.close();
    }
    // the closed connection stops listening
    await eventually(() => expect(engine.app.get(WorkFeed).listening('default')).toBe(0));
  });

  it("pushes to a csm stream its own items and its teams' queue only", async () => {
    const res = await fetch(`${engine.url}/v1/work/stream`, { headers: { authorization: `Bearer ${CSM_KEY}` } });
    const stream = sse(res);
    try {
      await eventually(() => expect(stream.events[0]?.event).toBe('ready'));
      const other = await conversation('q1', 'For ann', { team: 'support', assignee: 'ann' });
      const mine = await conversation('q2', 'For the csm', { team: 'support', assignee: CSM_ACTOR });
      await eventually(() => expect(stream.events.some((e) => (e.data as WorkChange).itemId === mine)).toBe(true));
      expect(stream.events.some((e) => (e.data as WorkChange).itemId === other)).toBe(false);
    } finally {
      await stream.close();
    }
    expect((await fetch(`${engine.url}/v1/work/stream?limit=3`, { headers: { authorization: `Bearer ${CSM_KEY}` } })).status).toBe(400);
  });
});
