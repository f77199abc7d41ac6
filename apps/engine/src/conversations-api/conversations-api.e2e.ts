/**
 * The CSM's work over HTTP, on the real engine (127.0.0.1): teams and members, csm keys that belong to a member (every
 * event they cause records `by`), the conversation actions with their refusals (resolved → 409, unknown member or
 * team → 400, stale If-Match → 412), agent-started conversations, task assign/close, and the customer's context.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, deterministicId, envelope, teamsStreamId, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { hashKey, keyIdOf } from '../auth/api-keys';
import { ConversationsService } from '../conversations/conversations.service';

const KEYS = {
  admin: 'ak-acme-conv-e2e',
  sam: 'ck-acme-sam-conv-e2e',
  anon: 'ck-acme-nomember-conv-e2e',
  analyst: 'nk-acme-conv-e2e',
  write: 'wk-acme-conv-e2e',
  other: 'ck-other-conv-e2e',
};
const ADMIN_KEY_ID = keyIdOf(hashKey(KEYS.admin));

describe('the CSM work over HTTP: teams, members, conversation and task actions, context', () => {
  let engine: TestEngine;
  let dataDir: string;
  let store: EventStore;
  let conversations: ConversationsService;
  /** The conversation the customer started (seeded). */
  let conversationId: string;

  async function call(key: string | undefined, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: {
        ...(key && { authorization: `Bearer ${key}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      etag: res.headers.get('etag'),
      text,
      body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined) as any,
    };
  }
  const customerEvents = async (customerId: string): Promise<RecordedEvent[]> => store.readStream(customerStreamId('acme', customerId));
  const last = async (customerId: string, type: string) => (await customerEvents(customerId)).filter((e) => e.type === type).at(-1);
  const conv = (id = conversationId) => `/v1/customers/ada/conversations/${id}`;

  let seq = 0;
  const seed = (customerId: string, type: string, data: Record<string, unknown>, occurredAt: string): JourneyEvent =>
    envelope({
      id: deterministicId('conv-e2e', customerId, type, ++seq),
      type,
      data,
      workspaceId: 'acme',
      customerId,
      occurredAt,
      recordedAt: occurredAt,
      source: 'test',
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-conversations-api-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: KEYS.admin, workspaceId: 'acme', role: 'admin' },
          { key: KEYS.sam, workspaceId: 'acme', role: 'csm', memberId: 'sam' },
          { key: KEYS.anon, workspaceId: 'acme', role: 'csm' },
          { key: KEYS.analyst, workspaceId: 'acme', role: 'analyst' },
          { key: KEYS.write, workspaceId: 'acme', role: 'write' },
          { key: KEYS.other, workspaceId: 'other', role: 'csm' },
        ],
      }),
    );
    // the API only: no reactor adds events of its own to the streams under test
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api' } });
    store = engine.app.get<EventStore>(EVENT_STORE);
    conversations = engine.app.get(ConversationsService);
    await store.appendToStream(customerStreamId('acme', 'ada'), [
      seed('ada', 'CustomerIdentified', { userId: 'ada', traits: { email: 'ada@example.com', plan: 'pro' } }, '2026-01-01T09:00:00.000Z'),
      seed('ada', 'CsmTaskOpened', { taskId: 't1', title: 'Renewal call', priority: 'high' }, '2026-01-01T09:30:00.000Z'),
      seed('ada', 'CsmTaskOpened', { taskId: 't2', title: 'Check in', priority: 'normal' }, '2026-01-01T09:31:00.000Z'),
    ]);
    await store.appendToStream(customerStreamId('acme', 'noemail'), [
      seed('noemail', 'CustomerIdentified', { userId: 'noemail', traits: {} }, '2026-01-01T09:00:00.000Z'),
    ]);
    const received = await conversations.receive('acme', 'ada', { channel: 'inbox', body: 'The export fails', providerId: 'p-1' }, 'test');
    conversationId = received.conversation.conversationId;
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  describe('teams and members', () => {
    it('lets an admin define a team (ETag: the revision) that csm and analyst keys read; a csm key may not define one', async () => {
      const put = await call(KEYS.admin, 'PUT', '/v1/teams/support', {
        name: 'Support',
        timeZone: 'Europe/Paris',
        sla: { high: { firstResponse: '1h', resolution: '8h' } },
      });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({ teamId: 'support', name: 'Support', timeZone: 'Europe/Paris' });
      expect(put.etag).toBe('"1"');
      expect((await call(KEYS.sam, 'GET', '/v1/teams/support')).body).toMatchObject({ teamId: 'support' });
      const list = await call(KEYS.analyst, 'GET', '/v1/teams');
      expect(list.body).toMatchObject({ teams: [{ teamId: 'support' }], revision: 1 });
      expect((await call(KEYS.sam, 'PUT', '/v1/teams/sales', {})).status).toBe(403);
      expect((await call(KEYS.write, 'GET', '/v1/teams')).status).toBe(403);
      expect((await call(KEYS.other, 'GET', '/v1/teams/support')).status).toBe(404);
      const defined = (await store.readStream(teamsStreamId('acme')))[0];
      expect(defined.data).toMatchObject({ teamId: 'support', by: `key:${ADMIN_KEY_ID}` });
    });

    it('refuses a bad team document naming the field, a mismatched id (400), a stale If-Match (412); unknown: 404', async () => {
      const bad = await call(KEYS.admin, 'PUT', '/v1/teams/sales', { timeZone: 'Mars/Olympus' });
      expect(bad.status).toBe(400);
      expect(bad.body.message).toContain('timeZone');
      const mismatch = await call(KEYS.admin, 'PUT', '/v1/teams/sales', { teamId: 'support' });
      expect(mismatch.status).toBe(400);
      expect(mismatch.body.message).toContain('teamId');
      const stale = await call(KEYS.admin, 'PUT', '/v1/teams/sales', { name: 'Sales' }, { 'if-match': '"0"' });
      expect(stale.status).toBe(412);
      expect((await call(KEYS.admin, 'GET', '/v1/teams/sales')).status).toBe(404);
      const fresh = await call(KEYS.admin, 'PUT', '/v1/teams/sales', { name: 'Sales' }, { 'if-match': '"1"' });
      expect(fresh.status).toBe(200);
      expect(fresh.etag).toBe('"2"');
      expect((await call(KEYS.admin, 'DELETE', '/v1/teams/nope')).status).toBe(404);
      expect((await call(KEYS.admin, 'DELETE', '/v1/teams/sales', undefined, { 'if-match': '"1"' })).status).toBe(412);
      const same = await call(KEYS.admin, 'PUT', '/v1/teams/sales', { name: 'Sales' });
      expect(same.etag).toBe('"2"'); // the same document again changes nothing
    });

    it('defines members of existing teams only; lists them by team; refuses removing a team lead (409)', async () => {
      const unknownTeam = await call(KEYS.admin, 'PUT', '/v1/members/sam', { name: 'Sam', teams: ['nope'] });
      expect(unknownTeam.status).toBe(400);
      expect(unknownTeam.body.message).toBe('teams: unknown team "nope"');
      for (const [id, name, teams] of [
        ['sam', 'Sam Lee', ['support']],
        ['lee', 'Lee Park', ['support', 'sales']],
        ['kim', 'Kim Roe', ['sales']],
      ] as const) {
        const res = await call(KEYS.admin, 'PUT', `/v1/members/${id}`, { name, email: `${id}@example.com`, teams });
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ memberId: id, name, teams, away: false });
      }
      const support = await call(KEYS.sam, 'GET', '/v1/members?team=support');
      expect(support.body.members.map((m: { memberId: string }) => m.memberId)).toEqual(['sam', 'lee']);
      expect((await call(KEYS.sam, 'GET', '/v1/members?team=nope')).status).toBe(404);
      expect((await call(KEYS.analyst, 'GET', '/v1/members/lee')).body).toMatchObject({ name: 'Lee Park' });
      expect((await call(KEYS.analyst, 'GET', '/v1/members/nobody')).status).toBe(404);

      expect((await call(KEYS.admin, 'PUT', '/v1/teams/sales', { name: 'Sales', lead: 'kim' })).status).toBe(200);
      const lead = await call(KEYS.admin, 'DELETE', '/v1/members/kim');
      expect(lead.status).toBe(409);
      expect(lead.body.message).toContain('leads sales');
      expect((await call(KEYS.admin, 'PUT', '/v1/teams/sales', { name: 'Sales' })).status).toBe(200);
      expect((await call(KEYS.admin, 'DELETE', '/v1/members/kim')).status).toBe(204);
      expect((await call(KEYS.admin, 'GET', '/v1/members/kim')).status).toBe(404);
      expect((await call(KEYS.sam, 'DELETE', '/v1/members/lee')).status).toBe(403);
    });

    it("lets a csm key set its own member's availability (recorded as theirs), an admin anyone's; nobody else's", async () => {
      const own = await call(KEYS.sam, 'PUT', '/v1/members/sam/availability', { away: true, until: '2099-01-01T08:00:00Z' });
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ memberId: 'sam', away: true, awayUntil: '2099-01-01T08:00:00.000Z' });
      const changed = (await store.readStream(teamsStreamId('acme'))).filter((e) => e.type === 'MemberAvailabilityChanged').at(-1);
      expect(changed?.data).toMatchObject({ memberId: 'sam', away: true, by: 'sam' });

      const others = await call(KEYS.sam, 'PUT', '/v1/members/lee/availability', { away: true });
      expect(others.status).toBe(403);
      expect(others.body.message).toContain('"sam"');
      expect((await call(KEYS.anon, 'PUT', '/v1/members/sam/availability', { away: false })).status).toBe(403);
      expect((await call(KEYS.analyst, 'PUT', '/v1/members/sam/availability', { away: false })).status).toBe(403);
      const bad = await call(KEYS.admin, 'PUT', '/v1/members/sam/availability', { away: 'yes', until: 'soon' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors).toEqual(expect.arrayContaining([expect.stringMatching(/^away: /), expect.stringMatching(/^until: /)]));
      expect((await call(KEYS.admin, 'PUT', '/v1/members/nobody/availability', { away: true })).status).toBe(404);
      const back = await call(KEYS.admin, 'PUT', '/v1/members/sam/availability', { away: false });
      expect(back.body).toMatchObject({ away: false });
      expect(back.body.awayUntil).toBeUndefined();
    });
  });

  describe('csm keys of a member', () => {
    it('creates a csm key for an existing member only, and never a member for another role', async () => {
      const created = await call(KEYS.admin, 'POST', '/v1/admin/keys', { role: 'csm', name: 'Lee', memberId: 'lee' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ role: 'csm', name: 'Lee', memberId: 'lee' });
      const unknown = await call(KEYS.admin, 'POST', '/v1/admin/keys', { role: 'csm', memberId: 'ghost' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toContain('no member "ghost"');
      const analyst = await call(KEYS.admin, 'POST', '/v1/admin/keys', { role: 'analyst', memberId: 'lee' });
      expect(analyst.status).toBe(400);
      expect(analyst.body.message).toContain('only keys of role csm');
      const listed = await call(KEYS.admin, 'GET', '/v1/admin/keys');
      expect(listed.body.keys).toEqual(expect.arrayContaining([expect.objectContaining({ id: created.body.id, memberId: 'lee' })]));

      // what the new key does is recorded as Lee's; a rotated key stays hers
      const rotated = await call(KEYS.admin, 'POST', `/v1/admin/keys/${created.body.id}/rotate`);
      expect(rotated.body).toMatchObject({ memberId: 'lee' });
      const note = await call(rotated.body.key, 'POST', `${conv()}/notes`, { body: 'Lee: I know this export bug' });
      expect(note.status).toBe(200);
      expect((await last('ada', 'InternalNoteAdded'))?.data).toMatchObject({ body: 'Lee: I know this export bug', by: 'lee' });
    });
  });

  describe('conversation actions', () => {
    it("lists the customer's conversations and answers one with its thread, internal notes included, ETag its version", async () => {
      const list = await call(KEYS.analyst, 'GET', '/v1/customers/ada/conversations');
      expect(list.status).toBe(200);
      expect(list.body.conversations).toEqual([
        expect.objectContaining({ conversationId, status: 'open', channel: 'inbox', messages: 1, notes: 1, waitingOn: 'agent' }),
      ]);
      const one = await call(KEYS.analyst, 'GET', conv());
      expect(one.status).toBe(200);
      expect(one.etag).toBe(`"${one.body.version}"`);
      expect(one.body.thread.map((t: { from: string }) => t.from)).toEqual(['customer', 'note']);
      expect((await call(KEYS.analyst, 'GET', conv('nope'))).status).toBe(404);
      expect((await call(KEYS.other, 'GET', '/v1/customers/ada/conversations')).status).toBe(404);
      expect((await call(KEYS.other, 'GET', conv())).status).toBe(404);
      expect((await call(KEYS.write, 'GET', conv())).status).toBe(403);
    });

    it('replies as the member of the key (assigned to them), honouring If-Match: a stale version is a 412 and writes nothing', async () => {
      const before = await call(KEYS.sam, 'GET', conv());
      const version = before.body.version as number;
      const stale = await call(KEYS.sam, 'POST', `${conv()}/replies`, { body: 'Too late' }, { 'if-match': `"${version - 1}"` });
      expect(stale.status).toBe(412);
      expect(stale.body.message).toContain(`version ${version}`);
      const reply = await call(KEYS.sam, 'POST', `${conv()}/replies`, { body: 'Fixed: try again?' }, { 'if-match': `"${version}"` });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ assignee: 'sam', held: true, waitingOn: 'customer', version: version + 2 });
      expect(reply.etag).toBe(`"${version + 2}"`);
      expect(reply.body.thread.at(-1)).toMatchObject({ from: 'agent', body: 'Fixed: try again?', by: 'sam' });
      expect((await last('ada', 'AgentReplied'))?.data).toMatchObject({ by: 'sam', body: 'Fixed: try again?' });
      expect((await last('ada', 'ConversationAssigned'))?.data).toMatchObject({ assignee: 'sam', by: 'sam', reason: 'manual' });
      expect((await customerEvents('ada')).filter((e) => e.type === 'AgentReplied')).toHaveLength(1);
    });

    it('refuses bad bodies naming the field, and write and analyst keys', async () => {
      const empty = await call(KEYS.sam, 'POST', `${conv()}/replies`, {});
      expect(empty.status).toBe(400);
      expect(empty.body.message).toMatch(/^body: /);
      const extra = await call(KEYS.sam, 'POST', `${conv()}/notes`, { body: 'x', to: 'everyone' });
      expect(extra.status).toBe(400);
      expect(extra.body.message).toContain('to: property to should not exist');
      expect((await call(KEYS.sam, 'POST', `${conv()}/replies`, { body: 'x' }, { 'if-match': 'latest' })).status).toBe(400);
      for (const odd of [[{ body: 'x' }], 'x', 42, { body: 42 }, { body: 'x'.repeat(20_001) }]) {
        const res = await call(KEYS.sam, 'POST', `${conv()}/replies`, odd);
        expect({ odd: JSON.stringify(odd).slice(0, 20), status: res.status }).toEqual({
          odd: JSON.stringify(odd).slice(0, 20),
          status: 400,
        });
      }
      expect((await call(KEYS.analyst, 'POST', `${conv()}/replies`, { body: 'x' })).status).toBe(403);
      expect((await call(KEYS.write, 'POST', `${conv()}/resolve`)).status).toBe(403);
      expect((await call(KEYS.sam, 'POST', `${conv('nope')}/replies`, { body: 'x' })).status).toBe(404);
    });

    it('assigns to an existing member and team only (400 naming the unknown one); a team alone queues it', async () => {
      const ghost = await call(KEYS.sam, 'POST', `${conv()}/assign`, { assignee: 'ghost' });
      expect(ghost.status).toBe(400);
      expect(ghost.body.message).toContain('assignee: no member "ghost"');
      const noTeam = await call(KEYS.sam, 'POST', `${conv()}/assign`, { team: 'billing' });
      expect(noTeam.status).toBe(400);
      expect(noTeam.body.message).toContain('team: no team "billing"');
      expect((await call(KEYS.sam, 'POST', `${conv()}/assign`, {})).status).toBe(400);
      expect((await call(KEYS.sam, 'POST', `${conv()}/assign`, { priority: 'whenever' })).status).toBe(400);

      const toLee = await call(KEYS.sam, 'POST', `${conv()}/assign`, { assignee: 'lee', team: 'support', priority: 'high' });
      expect(toLee.status).toBe(200);
      expect(toLee.body).toMatchObject({ assignee: 'lee', team: 'support', priority: 'high' });
      const priority = await call(KEYS.sam, 'POST', `${conv()}/assign`, { priority: 'urgent' });
      expect(priority.body).toMatchObject({ assignee: 'lee', team: 'support', priority: 'urgent' });
      const queued = await call(KEYS.sam, 'POST', `${conv()}/assign`, { team: 'sales' });
      expect(queued.body).toMatchObject({ team: 'sales', held: true });
      expect(queued.body.assignee).toBeUndefined();
      expect((await last('ada', 'ConversationAssigned'))?.data).toMatchObject({ team: 'sales', reason: 'queued', by: 'sam' });
      const back = await call(KEYS.admin, 'POST', `${conv()}/assign`, { assignee: 'sam', team: 'support', priority: 'normal' });
      expect(back.body).toMatchObject({ assignee: 'sam', team: 'support' });
      expect((await last('ada', 'ConversationAssigned'))?.data).toMatchObject({ by: `key:${ADMIN_KEY_ID}` });
    });

    it('snoozes into the future only, reopens, resolves; a resolved conversation refuses a reply (409) until reopened', async () => {
      const past = await call(KEYS.sam, 'POST', `${conv()}/snooze`, { until: '2020-01-01T00:00:00Z' });
      expect(past.status).toBe(400);
      expect(past.body.message).toContain('until: must be in the future');
      expect((await call(KEYS.sam, 'POST', `${conv()}/snooze`, { until: 'tomorrow' })).status).toBe(400);
      const snoozed = await call(KEYS.sam, 'POST', `${conv()}/snooze`, { until: '2099-01-01T00:00:00Z' });
      expect(snoozed.body).toMatchObject({ status: 'snoozed', snoozedUntil: '2099-01-01T00:00:00.000Z' });
      expect((await call(KEYS.sam, 'POST', `${conv()}/reopen`)).body).toMatchObject({ status: 'open' });
      expect((await last('ada', 'ConversationReopened'))?.data).toMatchObject({ reason: 'manual', by: 'sam' });

      const resolved = await call(KEYS.sam, 'POST', `${conv()}/resolve`);
      expect(resolved.status).toBe(200);
      expect(resolved.body).toMatchObject({ status: 'resolved', resolvedBy: 'sam' });
      const again = await call(KEYS.sam, 'POST', `${conv()}/resolve`, undefined, { 'if-match': resolved.etag! });
      expect(again.status).toBe(200);
      expect(again.etag).toBe(resolved.etag);
      const reply = await call(KEYS.sam, 'POST', `${conv()}/replies`, { body: 'One more thing' });
      expect(reply.status).toBe(409);
      expect(reply.body.message).toContain('is resolved: reopen it');
      expect((await call(KEYS.sam, 'POST', `${conv()}/snooze`, { until: '2099-01-01T00:00:00Z' })).status).toBe(409);
      expect((await call(KEYS.sam, 'POST', `${conv()}/assign`, { assignee: 'lee' })).status).toBe(409);
      expect((await call(KEYS.sam, 'POST', `${conv()}/reopen`, undefined, { 'if-match': '"1"' })).status).toBe(412);
      expect((await call(KEYS.sam, 'POST', `${conv()}/reopen`)).body).toMatchObject({ status: 'open', reopened: 1, assignee: 'sam' });
      expect((await call(KEYS.sam, 'POST', `${conv()}/replies`, { body: 'One more thing' })).status).toBe(200);
    });

    it('starts a conversation from the agent (201, by the member), once per Idempotency-Key; email needs an address', async () => {
      const started = await call(KEYS.sam, 'POST', '/v1/customers/ada/conversations', {
        body: 'Your renewal is next month: shall we talk?',
        channel: 'email',
        subject: 'Your renewal',
      });
      expect(started.status).toBe(201);
      expect(started.body).toMatchObject({
        channel: 'email',
        subject: 'Your renewal',
        startedBy: 'sam',
        assignee: 'sam',
        waitingOn: 'customer',
      });
      expect(started.body.thread).toEqual([
        expect.objectContaining({ from: 'agent', by: 'sam', body: 'Your renewal is next month: shall we talk?' }),
      ]);
      expect(started.etag).toBe('"3"');
      const stream = await customerEvents('ada');
      const ofIt = stream.filter((e) => (e.data as { conversationId?: string }).conversationId === started.body.conversationId);
      expect(ofIt.map((e) => [e.type, (e.data as { by?: string }).by])).toEqual([
        ['ConversationStarted', 'sam'],
        ['ConversationAssigned', 'sam'],
        ['AgentReplied', 'sam'],
      ]);

      const once = await call(KEYS.sam, 'POST', '/v1/customers/ada/conversations', { body: 'Hello' }, { 'idempotency-key': 'k-1' });
      expect(once.status).toBe(201);
      const twice = await call(KEYS.sam, 'POST', '/v1/customers/ada/conversations', { body: 'Hello' }, { 'idempotency-key': 'k-1' });
      expect(twice.status).toBe(200);
      expect(twice.body.conversationId).toBe(once.body.conversationId);
      expect(twice.body.thread).toHaveLength(1);

      const list = await call(KEYS.sam, 'GET', '/v1/customers/ada/conversations');
      expect(list.body.conversations.map((c: { conversationId: string }) => c.conversationId)).toEqual([
        once.body.conversationId,
        started.body.conversationId,
        conversationId,
      ]);
      const noEmail = await call(KEYS.sam, 'POST', '/v1/customers/noemail/conversations', { body: 'Hi', channel: 'email' });
      expect(noEmail.status).toBe(400);
      expect(noEmail.body.message).toContain('no email trait');
      expect((await call(KEYS.sam, 'POST', '/v1/customers/nobody/conversations', { body: 'Hi' })).status).toBe(404);
      expect((await call(KEYS.sam, 'POST', '/v1/customers/ada/conversations', { body: 'Hi', channel: 'slack' })).status).toBe(400);
      expect((await call(KEYS.analyst, 'POST', '/v1/customers/ada/conversations', { body: 'Hi' })).status).toBe(403);
      expect((await call(KEYS.other, 'POST', '/v1/customers/ada/conversations', { body: 'Hi' })).status).toBe(404);
    });
  });

  describe('tasks', () => {
    it('assigns an open task to a member (400 for an unknown one) and closes it with an outcome, recorded as the member', async () => {
      const ghost = await call(KEYS.sam, 'POST', '/v1/customers/ada/tasks/t1/assign', { assignee: 'ghost' });
      expect(ghost.status).toBe(400);
      expect(ghost.body.message).toContain('no member "ghost"');
      expect((await call(KEYS.sam, 'POST', '/v1/customers/ada/tasks/t1/assign', { assignee: 'lee' })).status).toBe(204);
      expect((await last('ada', 'CsmTaskAssigned'))?.data).toMatchObject({ taskId: 't1', assignee: 'lee', by: 'sam', reason: 'manual' });
      expect((await call(KEYS.sam, 'POST', '/v1/customers/ada/tasks/t1/close', { outcome: ' ' })).status).toBe(400);
      expect((await call(KEYS.sam, 'POST', '/v1/customers/ada/tasks/t1/close', {})).status).toBe(400);
      expect((await call(KEYS.sam, 'POST', '/v1/customers/ada/tasks/t1/close', { outcome: 'Renewing for two years' })).status).toBe(204);
      expect((await last('ada', 'CsmTaskClosed'))?.data).toMatchObject({ taskId: 't1', outcome: 'Renewing for two years', by: 'sam' });
      const closed = await call(KEYS.sam, 'POST', '/v1/customers/ada/tasks/t1/close', { outcome: 'again' });
      expect(closed.status).toBe(404);
      expect(closed.body.message).toContain('task "t1" is not open');
      expect((await call(KEYS.analyst, 'POST', '/v1/customers/ada/tasks/t2/close', { outcome: 'x' })).status).toBe(403);
      expect((await call(KEYS.other, 'POST', '/v1/customers/ada/tasks/t2/close', { outcome: 'x' })).status).toBe(404);
    });
  });

  describe('context', () => {
    beforeAll(async () => {
      const day = (d: number, h = 9) => new Date(Date.UTC(2026, 0, d, h)).toISOString();
      const events: JourneyEvent[] = [
        seed('ctx', 'CustomerIdentified', { userId: 'ctx', traits: { email: 'ctx@example.com', csm_owner: 'sam' } }, day(1)),
        seed('ctx', 'AccountLinked', { groupId: 'acme-inc', traits: { seats: 40 } }, day(1, 10)),
        seed('ctx', 'StageChanged', { from: 'onboarding', to: 'renewal', reason: 'renewal window' }, day(2)),
        seed('ctx', 'CsmTaskOpened', { taskId: 'renew', title: 'Renewal call', priority: 'high', owner: 'sam' }, day(2, 10)),
      ];
      for (let i = 1; i <= 25; i++)
        events.push(
          seed(
            'ctx',
            'InteractionRecorded',
            { event: `Feature ${i}`, properties: { i } },
            new Date(Date.UTC(2026, 0, 3, 0, i)).toISOString(),
          ),
        );
      events.push(seed('ctx', 'PageViewed', { kind: 'page', name: 'Pricing', properties: {} }, day(3, 12)));
      for (let i = 1; i <= 12; i++) {
        const at = new Date(Date.UTC(2026, 0, 4, i)).toISOString();
        events.push(
          seed(
            'ctx',
            'MessageScheduled',
            { messageId: `m${i}`, channel: 'email', triggerId: 'tips', template: { subject: `Tip ${i}`, body: 'b' } },
            at,
          ),
          seed('ctx', 'MessageDelivered', { messageId: `m${i}`, channel: 'email', attempt: 1 }, at),
        );
      }
      await store.appendToStream(customerStreamId('acme', 'ctx'), events);
      const first = await conversations.receive('acme', 'ctx', { channel: 'inbox', body: 'Invoice is wrong', providerId: 'ctx-1' }, 'test');
      const id = first.conversation.conversationId;
      await conversations.act('acme', 'ctx', id, { type: 'Reply', body: 'Corrected it', by: 'sam' }, { source: 'test' });
      await conversations.act('acme', 'ctx', id, { type: 'Resolve', by: 'sam' }, { source: 'test' });
      await conversations.act('acme', 'ctx', id, { type: 'Rate', score: 5, comment: 'fast' }, { source: 'test' });
      const second = await conversations.receive(
        'acme',
        'ctx',
        { channel: 'email', body: 'Can we add seats?', providerId: 'ctx-2' },
        'test',
      );
      await conversations.act(
        'acme',
        'ctx',
        second.conversation.conversationId,
        { type: 'AddNote', body: 'Upsell: 10 seats', by: 'lee' },
        { source: 'test' },
      );
    });

    it('answers what an agent needs not to ask again, from the customer stream', async () => {
      const res = await call(KEYS.sam, 'GET', '/v1/customers/ctx/context');
      expect(res.status).toBe(200);
      const c = res.body;
      expect(c).toMatchObject({
        customerId: 'ctx',
        stage: 'renewal',
        stageSince: '2026-01-02T09:00:00.000Z',
        traits: { email: 'ctx@example.com', csm_owner: 'sam' },
        accountTraits: { 'acme-inc': { seats: 40 } },
        openTasks: [{ taskId: 'renew', title: 'Renewal call', owner: 'sam', priority: 'high' }],
      });
      expect(typeof c.health).toBe('number');
      expect(c.interactions).toHaveLength(20);
      expect(c.interactions[0]).toMatchObject({ type: 'PageViewed', name: 'Pricing', kind: 'page' });
      expect(c.interactions.slice(1, 3).map((i: { name: string }) => i.name)).toEqual(['Feature 25', 'Feature 24']);
      expect(c.openConversations).toEqual([
        expect.objectContaining({
          status: 'open',
          channel: 'email',
          messages: 1,
          lastMessage: expect.objectContaining({ from: 'customer', body: 'Can we add seats?' }),
          lastNote: expect.objectContaining({ body: 'Upsell: 10 seats', by: 'lee' }),
        }),
      ]);
      expect(c.earlierConversations).toEqual([
        expect.objectContaining({
          status: 'resolved',
          resolvedBy: 'sam',
          automated: false,
          rating: { score: 5, comment: 'fast' },
          lastMessage: expect.objectContaining({ from: 'agent', body: 'Corrected it', by: 'sam' }),
        }),
      ]);
      expect(c.earlierConversations[0].resolvedAt).toEqual(expect.any(String));
      expect(c.recentMessages).toHaveLength(10);
      expect(c.recentMessages[0]).toMatchObject({ messageId: 'm12', channel: 'email', subject: 'Tip 12', triggerId: 'tips' });
      expect(c.recentMessages.at(-1)).toMatchObject({ messageId: 'm3' });
    });

    it('is read by analyst keys, not write keys; another workspace or an unknown customer is a 404', async () => {
      expect((await call(KEYS.analyst, 'GET', '/v1/customers/ctx/context')).status).toBe(200);
      expect((await call(KEYS.write, 'GET', '/v1/customers/ctx/context')).status).toBe(403);
      expect((await call(KEYS.other, 'GET', '/v1/customers/ctx/context')).status).toBe(404);
      expect((await call(KEYS.sam, 'GET', '/v1/customers/nobody/context')).status).toBe(404);
    });
  });
});
