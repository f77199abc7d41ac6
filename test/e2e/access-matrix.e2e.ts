/**
 * The access matrix: every endpoint of the engine × every kind of caller (no key, a wrong key, and the write,
 * analyst, csm and admin keys) × workspace (`acme`, and `acme-eu`, named so that its stream ids collide with acme's
 * when ids are not escaped: acme's customer `eu-bob` vs acme-eu's `bob`).
 *
 * The endpoints are listed from the Nest router (and checked against the OpenAPI document), so an endpoint added
 * without a rule here fails this test; the expected roles below are the documented policy (deploy/configuration.md
 * "Keys"), written apart from the code's `@Allow` decorators. `/v1/admin/...` endpoints are admin-only unless listed.
 *
 * What is asserted: the right callers get a 2xx (or the 404 of an id that does not exist for them), the wrong ones
 * 401 (no key, unknown key) or 403 (another role); no answer is a 5xx; and no answer to a key of one workspace ever
 * holds data of the other (each workspace's data carries a marker only it has).
 *
 * The in-app client endpoints (`/v1/client/:workspaceId/...`) are public to the key guard and authenticated by a
 * customer token instead (`allow: 'customer-token'`): every caller, whatever its key, gets a 2xx with the customer's
 * token of its workspace, a 401 without one (a key is never enough), and a 401 with it aimed at the other workspace.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, deterministicId, envelope, segmentStreamId, type JourneyEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { ConversationsService } from '../../apps/engine/src/conversations/conversations.service';
import { ProjectionsService } from '../../apps/engine/src/projections/projections.service';
import { hashKey, keyIdOf } from '../../apps/engine/src/auth/api-keys';
import { listRoutes } from '../../apps/engine/src/auth/routes';
import { OrganisationService } from '../../apps/engine/src/conversations/organisation.service';
import { startEngine, type TestEngine } from './support';

type Workspace = 'acme' | 'acme-eu';
type Caller = 'none' | 'wrong' | 'write' | 'analyst' | 'csm' | 'admin';
type Role = Exclude<Caller, 'none' | 'wrong'>;
const WORKSPACES: Workspace[] = ['acme', 'acme-eu'];
const CALLERS: Caller[] = ['none', 'wrong', 'write', 'analyst', 'csm', 'admin'];
const ROLES: Role[] = ['write', 'analyst', 'csm', 'admin'];
const key = (ws: Workspace, role: Role) => `${role}-key-of-${ws}-matrix`;
/** Data only this workspace has: found in an answer to the other workspace's key, it leaked. */
const MARK: Record<Workspace, string> = { acme: 'MARK_OF_ACME_ONLY', 'acme-eu': 'MARK_OF_ACME_EU_ONLY' };
const OTHER: Record<Workspace, Workspace> = { acme: 'acme-eu', 'acme-eu': 'acme' };
const messageId = (ws: Workspace) => `msg-${ws}`;
const failedMessageId = (ws: Workspace) => `failed-msg-${ws}`;
/** Teams and members of each workspace (the csm key belongs to its member); conversations and tasks of its `bob`. */
const teamId = (ws: Workspace) => `team-${ws}`;
const memberId = (ws: Workspace) => `member-${ws}`;
const conversationId = (ws: Workspace, action: string) => `conv-${ws}-${action}`;
const CONVERSATION_ACTIONS = ['read', 'replies', 'notes', 'assign', 'snooze', 'resolve', 'reopen'];
/** Tasks to close: one per caller and workspace (only the allowed callers close one; the others are refused first). */
const CLOSABLE_TASKS = 8;
const closed: Record<Workspace, number> = { acme: 0, 'acme-eu': 0 };
/** Broadcasts to cancel: one per caller and workspace, as the tasks to close. */
const cancelled: Record<Workspace, number> = { acme: 0, 'acme-eu': 0 };
const broadcast = (id: string, ws: Workspace) => ({
  id,
  segmentId: 'everyone',
  send: { channel: 'inbox', body: `Hi ${MARK[ws]}` },
  at: '2999-01-01T00:00:00Z',
});
/** Numbers the requests that must be unique (trigger ids, message ids) across the whole run. */
let requests = 0;

interface Probe {
  /** Values of the path's parameters. */
  params?: Record<string, string>;
  body?: unknown;
  /** Extra request headers (an in-app client's customer token). */
  headers?: Record<string, string>;
  /** A query string (`?trigger=x`). */
  query?: string;
}

interface Rule {
  /**
   * Who may call it: roles, `public` (no key needed), `customer-token` (no key: the in-app customer token), or
   * `own-auth`: no key opens it, it checks credentials of its own (a provider webhook's basic auth or signature), so
   * every caller here gets a 401 (its 2xx is in its own e2e test).
   */
  allow: Role[] | 'public' | 'customer-token' | 'own-auth';
  /** A valid request of workspace `ws` for its own data: the allowed roles get a 2xx. */
  own: (ws: Workspace, n: number) => Probe;
  /** The same request aimed at the other workspace's data (its message or key ids): the allowed roles get a 404. */
  other?: (ws: Workspace) => Probe;
  /**
   * acme's request with an id that collides with acme-eu's streams when ids are not escaped (`customer-acme-eu-bob`
   * is acme-eu's `bob` and would be acme's `eu-bob`): the allowed roles get `collidingStatus` (404), never acme-eu's data.
   */
  colliding?: Probe;
  collidingStatus?: number;
}

const call = (type: string, extra: object = {}) => ({ type, userId: 'bob', ...extra });
const trigger = (id: string, ws: Workspace) => ({
  id,
  name: `Trigger ${MARK[ws]}`,
  entry: { event: 'Plan Upgraded' },
  steps: [{ send: { channel: 'inbox', body: 'Hi' } }],
});
const segment = (ws: Workspace) => ({ name: `Segment ${MARK[ws]}`, conditions: { traits: { plan: 'pro' } } });
const ingest = (type: string, extra: object = {}): Rule => ({
  allow: ['write'],
  own: (_, n) => ({ body: call(type, { messageId: `m-${type}-${n}`, ...extra }) }),
});
const readers: Role[] = ['admin', 'csm', 'analyst'];
const workers: Role[] = ['admin', 'csm'];
const customer = { own: (): Probe => ({ params: { id: 'bob' } }), colliding: { params: { id: 'eu-bob' } } };
const storedTrigger = (body?: (ws: Workspace, id: string) => unknown) => ({
  own: (ws: Workspace): Probe => ({ params: { id: 'x' }, body: body?.(ws, 'x') }),
  colliding: { params: { id: 'eu-x' }, body: body?.('acme', 'eu-x') },
});
const conversationRule = (action: string, body?: (ws: Workspace) => unknown): Rule => ({
  allow: action === 'read' ? readers : workers,
  own: (ws) => ({ params: { id: 'bob', conversationId: conversationId(ws, action) }, body: body?.(ws) }),
  other: (ws) => ({ params: { id: 'bob', conversationId: conversationId(OTHER[ws], action) }, body: body?.(ws) }),
  colliding: { params: { id: 'eu-bob', conversationId: conversationId('acme-eu', action) }, body: body?.('acme') },
});
const keyIdOfOther = (ws: Workspace): Probe => ({ params: { id: keyIdOf(hashKey(key(OTHER[ws], 'csm'))) } });
/** Each workspace's in-app identity secret; a customer's token is the HMAC-SHA256 of its id with it. */
const IDENTITY_SECRET: Record<Workspace, string> = { acme: 'identity-of-acme', 'acme-eu': 'identity-of-acme-eu' };
const customerToken = (ws: Workspace, customerId: string) => ({
  'x-customer-id': customerId,
  'x-customer-token': createHmac('sha256', IDENTITY_SECRET[ws]).update(customerId).digest('hex'),
});
/** Each workspace's resolved conversation of bob (rated by the in-app probes). */
const conversationOf: Partial<Record<Workspace, string>> = {};
/**
 * An in-app client request of bob of `ws` with his token of `ws`; `other`: the same aimed at the other workspace;
 * `colliding`: acme's eu-bob (his token of acme) naming acme-eu's bob's ids, and writing nothing.
 */
const client = (options: {
  params?: (ws: Workspace) => Record<string, string>;
  body?: (n: number) => unknown;
  collidingBody?: () => unknown;
  collidingStatus?: number;
}): Rule => ({
  allow: 'customer-token',
  own: (ws, n) => ({ params: { workspaceId: ws, ...options.params?.(ws) }, headers: customerToken(ws, 'bob'), body: options.body?.(n) }),
  other: (ws) => ({
    params: { workspaceId: OTHER[ws], ...options.params?.(OTHER[ws]) },
    headers: customerToken(ws, 'bob'),
    body: options.body?.(++requests),
  }),
  get colliding() {
    return {
      params: { workspaceId: 'acme', ...options.params?.('acme-eu') },
      headers: customerToken('acme', 'eu-bob'),
      body: options.collidingBody?.() ?? options.body?.(++requests),
    };
  },
  collidingStatus: options.collidingStatus ?? 200,
});

/** The policy: method and path → rule. */
const RULES: Record<string, Rule> = {
  'GET /health': { allow: 'public', own: () => ({}) },
  'GET /metrics': { allow: ['admin', 'analyst'], own: () => ({}) },

  'POST /v1/track': ingest('track', { event: 'Clicked' }),
  'POST /v1/identify': ingest('identify', { traits: {} }),
  'POST /v1/page': ingest('page', { name: 'Home' }),
  'POST /v1/screen': ingest('screen', { name: 'Home' }),
  'POST /v1/group': ingest('group', { groupId: 'g1' }),
  'POST /v1/alias': ingest('alias', { previousId: 'anon-1' }),
  'POST /v1/batch': {
    allow: ['write'],
    own: (_, n) => ({ body: { batch: [{ ...call('track', { event: 'Clicked', messageId: `m-batch-${n}` }) }] } }),
  },

  'GET /v1/customers': { allow: readers, own: () => ({}) }, // search: the caller's workspace only (its marker trait)
  'GET /v1/customers/:id': { allow: readers, ...customer },
  'GET /v1/customers/:id/timeline': { allow: readers, ...customer },
  'GET /v1/customers/:id/upcoming': { allow: readers, ...customer },
  'GET /v1/customers/:id/inbox': { allow: readers, ...customer, collidingStatus: 200 }, // an unknown customer's inbox is empty
  'POST /v1/customers/:id/inbox/:messageId/opened': {
    allow: ['write', 'admin'],
    own: (ws) => ({ params: { id: 'bob', messageId: messageId(ws) } }),
    other: (ws) => ({ params: { id: 'bob', messageId: messageId(OTHER[ws]) } }),
    colliding: { params: { id: 'eu-bob', messageId: messageId('acme-eu') } },
  },
  'GET /v1/work': { allow: readers, own: () => ({}) },
  'GET /v1/work/stream': { allow: readers, own: () => ({}) }, // an event stream: its first event is read
  'GET /v1/events/stream': { allow: readers, own: () => ({}) },
  'GET /v1/analytics/stages': { allow: readers, own: () => ({}) },
  'GET /v1/analytics/triggers': { allow: readers, own: () => ({}) },
  'GET /v1/analytics/conversations': { allow: readers, own: () => ({}) },
  'POST /v1/messages/:id/resend': {
    allow: ['admin'],
    own: (ws) => ({ params: { id: failedMessageId(ws) } }),
    other: (ws) => ({ params: { id: failedMessageId(OTHER[ws]) } }),
  },
  'GET /v1/messages/:id/explain': {
    allow: readers,
    own: (ws) => ({ params: { id: messageId(ws) } }),
    other: (ws) => ({ params: { id: messageId(OTHER[ws]) } }),
  },

  'POST /v1/triggers': { allow: workers, own: (ws, n) => ({ body: trigger(`matrix-${n}`, ws) }) },
  // the console's sign-in: every key learns its own role (added with the console; its rule was missing)
  'GET /v1/session': { allow: ROLES, own: () => ({}) },
  'POST /v1/triggers/validate': { allow: workers, own: (ws) => ({ body: trigger('draft', ws) }) },
  'GET /v1/triggers': { allow: readers, own: () => ({}) },
  'GET /v1/triggers/:id': { allow: readers, ...storedTrigger() },
  'PUT /v1/triggers/:id': { allow: workers, ...storedTrigger((ws, id) => trigger(id, ws)) },
  'POST /v1/triggers/:id/enable': { allow: workers, ...storedTrigger() },
  'POST /v1/triggers/:id/disable': { allow: workers, ...storedTrigger() },
  'GET /v1/triggers/:id/shadow': { allow: workers, ...storedTrigger() },
  'POST /v1/triggers/:id/shadow': { allow: workers, ...storedTrigger(() => ({ version: 1 })) },
  'DELETE /v1/triggers/:id/shadow': { allow: workers, ...storedTrigger() },
  'POST /v1/triggers/backtest': { allow: workers, own: (ws) => ({ body: { definition: trigger('draft', ws) } }) },
  'POST /v1/triggers/:id/backtest': { allow: workers, ...storedTrigger(() => ({})) },

  'POST /v1/broadcasts': { allow: workers, own: (ws, n) => ({ body: broadcast(`matrix-${n}`, ws) }) },
  'GET /v1/broadcasts': { allow: readers, own: () => ({}) },
  'GET /v1/broadcasts/:id': {
    allow: readers,
    own: (ws) => ({ params: { id: `bc-${ws}` } }),
    other: (ws) => ({ params: { id: `bc-${OTHER[ws]}` } }),
    colliding: { params: { id: 'eu-bc-acme-eu' } },
  },
  'POST /v1/broadcasts/:id/cancel': {
    allow: workers,
    own: (ws) => ({ params: { id: `cancel-${ws}-${cancelled[ws]++}` } }),
    other: (ws) => ({ params: { id: `bc-${OTHER[ws]}` } }),
    colliding: { params: { id: 'eu-bc-acme-eu' } },
  },
  // segment `x` is defined in each workspace (beforeAll); DELETE removes `gone-<ws>`, again and again (no change after the first)
  // PUT defines a segment that does not exist yet: no colliding probe (acme's `eu-x` is simply acme's own new segment)
  'PUT /v1/segments/:id': { allow: workers, own: (ws) => ({ params: { id: 'x' }, body: segment(ws) }) },
  'GET /v1/segments': { allow: readers, own: () => ({}) },
  'GET /v1/segments/:id': { allow: readers, ...storedTrigger() },
  'GET /v1/segments/:id/members': { allow: readers, ...storedTrigger() },
  'GET /v1/segments/:id/counts': { allow: readers, ...storedTrigger() },
  'DELETE /v1/segments/:id': { allow: workers, own: (ws) => ({ params: { id: `gone-${ws}` } }), colliding: { params: { id: 'eu-x' } } },

  'GET /v1/customers/:id/context': { allow: readers, ...customer },
  'POST /v1/triggers/:id/preview': {
    allow: readers,
    own: () => ({ params: { id: 'x' }, body: { customerId: 'bob', step: 'steps[0]' } }),
    colliding: { params: { id: 'x' }, body: { customerId: 'eu-bob', step: 'steps[0]' } },
  },
  'POST /v1/triggers/:id/test-send': {
    allow: workers,
    own: () => ({ params: { id: 'x' }, body: { customerId: 'bob', step: 'steps[0]', to: 'matrix-tester' } }),
    colliding: { params: { id: 'x' }, body: { customerId: 'eu-bob', step: 'steps[0]', to: 'matrix-tester' } },
  },
  'GET /v1/customers/:id/why-not': {
    allow: readers,
    own: () => ({ params: { id: 'bob' }, query: '?trigger=x' }),
    colliding: { params: { id: 'eu-bob' }, query: '?trigger=x' },
  },
  'GET /v1/customers/:id/conversations': { allow: readers, ...customer },
  'POST /v1/customers/:id/conversations': {
    allow: workers,
    own: () => ({ params: { id: 'bob' }, body: { body: 'Hello from the matrix' } }),
    colliding: { params: { id: 'eu-bob' }, body: { body: 'Hello' } },
  },
  'GET /v1/customers/:id/conversations/:conversationId': conversationRule('read'),
  'POST /v1/customers/:id/conversations/:conversationId/replies': conversationRule('replies', () => ({ body: 'A reply' })),
  'POST /v1/customers/:id/conversations/:conversationId/notes': conversationRule('notes', () => ({ body: 'A note' })),
  'POST /v1/customers/:id/conversations/:conversationId/assign': conversationRule('assign', (ws) => ({ assignee: memberId(ws) })),
  'POST /v1/customers/:id/conversations/:conversationId/snooze': conversationRule('snooze', () => ({ until: '2099-01-01T00:00:00Z' })),
  'POST /v1/customers/:id/conversations/:conversationId/resolve': conversationRule('resolve'),
  'POST /v1/customers/:id/conversations/:conversationId/reopen': conversationRule('reopen'),
  'POST /v1/customers/:id/tasks/:taskId/assign': {
    allow: workers,
    own: (ws) => ({ params: { id: 'bob', taskId: `task-${ws}` }, body: { assignee: memberId(ws) } }),
    other: (ws) => ({ params: { id: 'bob', taskId: `task-${OTHER[ws]}` }, body: { assignee: memberId(ws) } }),
    colliding: { params: { id: 'eu-bob', taskId: 'task-acme-eu' }, body: { assignee: memberId('acme') } },
  },
  'POST /v1/customers/:id/tasks/:taskId/close': {
    allow: workers,
    own: (ws) => ({ params: { id: 'bob', taskId: `close-${ws}-${closed[ws]++}` }, body: { outcome: 'done' } }),
    other: (ws) => ({ params: { id: 'bob', taskId: `close-${OTHER[ws]}-${CLOSABLE_TASKS - 1}` }, body: { outcome: 'done' } }),
    colliding: { params: { id: 'eu-bob', taskId: `close-acme-eu-${CLOSABLE_TASKS - 1}` }, body: { outcome: 'done' } },
  },

  'GET /v1/teams': { allow: readers, own: () => ({}) },
  'GET /v1/teams/:teamId': {
    allow: readers,
    own: (ws) => ({ params: { teamId: teamId(ws) } }),
    other: (ws) => ({ params: { teamId: teamId(OTHER[ws]) } }),
  },
  'PUT /v1/teams/:teamId': { allow: ['admin'], own: (ws) => ({ params: { teamId: teamId(ws) }, body: { name: `Team ${MARK[ws]}` } }) },
  // one admin call per workspace: the team seeded to be removed
  'DELETE /v1/teams/:teamId': {
    allow: ['admin'],
    own: (ws) => ({ params: { teamId: `disposable-${ws}` } }),
    other: (ws) => ({ params: { teamId: teamId(OTHER[ws]) } }),
  },
  'GET /v1/members': { allow: readers, own: () => ({}) },
  'GET /v1/members/:memberId': {
    allow: readers,
    own: (ws) => ({ params: { memberId: memberId(ws) } }),
    other: (ws) => ({ params: { memberId: memberId(OTHER[ws]) } }),
  },
  'PUT /v1/members/:memberId': {
    allow: ['admin'],
    own: (ws) => ({ params: { memberId: memberId(ws) }, body: { name: `Member ${MARK[ws]}`, teams: [teamId(ws)] } }),
  },
  'DELETE /v1/members/:memberId': {
    allow: ['admin'],
    own: (ws) => ({ params: { memberId: `disposable-${ws}` } }),
    other: (ws) => ({ params: { memberId: memberId(OTHER[ws]) } }),
  },
  // a csm key sets its own member's availability (the matrix's csm keys belong to the workspace's member)
  'PUT /v1/members/:memberId/availability': {
    allow: workers,
    own: (ws) => ({ params: { memberId: memberId(ws) }, body: { away: false } }),
    other: (ws) => ({ params: { memberId: memberId(OTHER[ws]) }, body: { away: false } }),
  },

  'GET /v1/admin/projections': { allow: ['admin'], own: () => ({}) },
  'GET /v1/admin/dead-letters': { allow: ['admin'], own: () => ({}) },
  'POST /v1/admin/projections/:name/rebuild': { allow: ['admin'], own: () => ({ params: { name: 'stage-analytics' } }) },
  'POST /v1/admin/keys': { allow: ['admin'], own: () => ({ body: { role: 'analyst', name: 'matrix' } }) },
  'GET /v1/admin/keys': { allow: ['admin'], own: () => ({}) },
  // their 2xx is in apps/engine/src/auth/keys.e2e.ts (it revokes keys); here: an unknown key, and one of the other workspace
  'POST /v1/admin/keys/:id/rotate': { allow: ['admin'], own: () => ({ params: { id: 'key_unknown' } }), other: keyIdOfOther },
  'DELETE /v1/admin/keys/:id': { allow: ['admin'], own: () => ({ params: { id: 'key_unknown' } }), other: keyIdOfOther },
  // a valid settings document: the probe must not wipe the in-app settings the client probes need
  'PUT /v1/admin/workspace/settings': { allow: ['admin'], own: () => ({ body: IN_APP_SETTINGS }) },

  // acme's eu-bob's inbox and stream are empty; acme-eu's bob's message and conversation are not his (404)
  'GET /v1/client/:workspaceId/inbox': client({}),
  'POST /v1/client/:workspaceId/inbox/:messageId/read': client({ params: (ws) => ({ messageId: messageId(ws) }), collidingStatus: 404 }),
  'POST /v1/client/:workspaceId/conversations': client({
    body: (n) => ({ body: `Hello ${n}`, clientMessageId: `matrix-${n}` }),
    collidingBody: () => ({ body: 'Hello', conversationId: conversationOf['acme-eu'] }),
    collidingStatus: 404,
  }),
  'POST /v1/client/:workspaceId/conversations/:conversationId/rating': client({
    params: (ws) => ({ conversationId: conversationOf[ws]! }),
    body: () => ({ score: 4 }),
    collidingStatus: 404,
  }),
  'GET /v1/client/:workspaceId/stream': client({}),

  // basic auth with the workspace's inbound secret (apps/engine/src/email/email.e2e.ts)
  'POST /v1/inbound/email/postmark/:workspaceId': { allow: 'own-auth', own: (ws) => ({ params: { workspaceId: ws }, body: {} }) },

  // Slack's request URLs: no key, Slack's signature (apps/engine/src/slack/slack.e2e.ts signs them and gets its 2xx)
  'POST /v1/slack/:workspaceId/interactivity': { allow: 'own-auth', own: (ws) => ({ params: { workspaceId: ws }, body: {} }) },
  'POST /v1/slack/:workspaceId/events': {
    allow: 'own-auth',
    own: (ws) => ({ params: { workspaceId: ws }, body: { type: 'url_verification', challenge: MARK[OTHER[ws]] } }),
  },
};
const IN_APP_SETTINGS = { inApp: { allowedOrigins: ['https://app.example.com'], identitySecret: 'inapp_identity' } };

/** Endpoints added later under /v1/admin (dead letters, resends, ...): admin only, probed with placeholder ids. */
const ADMIN_DEFAULT: Rule = { allow: ['admin'], own: () => ({}) };

function ruleOf(route: string): Rule | undefined {
  return RULES[route] ?? (route.split(' ')[1].startsWith('/v1/admin/') ? ADMIN_DEFAULT : undefined);
}

function seedEvent(ws: Workspace, type: string, data: Record<string, unknown>): JourneyEvent {
  const at = '2026-01-01T00:00:00.000Z';
  return envelope({
    id: deterministicId('matrix', ws, type, JSON.stringify(data)),
    type,
    data,
    workspaceId: ws,
    customerId: 'bob',
    occurredAt: at,
    recordedAt: at,
    source: 'test',
  });
}

describe('access matrix: endpoint × caller × workspace', () => {
  let engine: TestEngine;
  let dataDir: string;
  let routes: string[];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-matrix-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: WORKSPACES.flatMap((ws) =>
          ROLES.map((role) => ({ key: key(ws, role), workspaceId: ws, role, ...(role === 'csm' && { memberId: memberId(ws) }) })),
        ),
      }),
    );
    // the API and the projections; no reactor or dispatcher adds events of its own
    engine = await startEngine({ dataDir, env: { JOURNEY_ROLES: 'api,projector' } });
    const store = engine.app.get<EventStore>(EVENT_STORE);
    for (const ws of WORKSPACES) {
      await store.appendToStream(customerStreamId(ws, 'bob'), [
        seedEvent(ws, 'CustomerIdentified', { userId: 'bob', traits: { marker: MARK[ws] } }),
        seedEvent(ws, 'MessageScheduled', { messageId: messageId(ws), channel: 'inbox', template: { body: MARK[ws] } }),
        seedEvent(ws, 'MessageDelivered', { messageId: messageId(ws), channel: 'inbox', attempt: 1, content: { body: MARK[ws] } }),
        seedEvent(ws, 'MessageScheduled', { messageId: failedMessageId(ws), channel: 'webhook', template: { body: MARK[ws] } }),
        seedEvent(ws, 'MessageFailed', { messageId: failedMessageId(ws), channel: 'webhook', attempts: 3, error: 'HTTP 500' }),
        seedEvent(ws, 'CsmTaskOpened', { taskId: `task-${ws}`, title: MARK[ws], priority: 'normal' }),
        ...Array.from({ length: CLOSABLE_TASKS }, (_, i) =>
          seedEvent(ws, 'CsmTaskOpened', { taskId: `close-${ws}-${i}`, title: MARK[ws], priority: 'normal' }),
        ),
      ]);
      const organisation = engine.app.get(OrganisationService);
      for (const team of [teamId(ws), `disposable-${ws}`])
        await organisation.decide(ws, { type: 'DefineTeam', team: { teamId: team, name: `Team ${MARK[ws]}` } });
      for (const member of [memberId(ws), `disposable-${ws}`])
        await organisation.decide(ws, {
          type: 'DefineMember',
          member: { memberId: member, name: `Member ${MARK[ws]}`, teams: [teamId(ws)] },
        });
      for (const action of CONVERSATION_ACTIONS)
        await engine.app
          .get(ConversationsService)
          .receive(ws, 'bob', { channel: 'inbox', body: `Help ${MARK[ws]}`, conversationId: conversationId(ws, action) }, 'test');
      const created = await send('POST', '/v1/triggers', key(ws, 'csm'), trigger('x', ws));
      expect(created.status).toBe(201);
      await store.appendToStream(segmentStreamId(ws, 'everyone'), [
        seedEvent(ws, 'SegmentDefined', {
          segmentId: 'everyone',
          version: 1,
          definition: { id: 'everyone', name: 'Everyone', conditions: { traits: { marker: MARK[ws] } } },
        }),
      ]);
      for (const id of [`bc-${ws}`, ...Array.from({ length: CLOSABLE_TASKS }, (_, i) => `cancel-${ws}-${i}`)])
        expect((await send('POST', '/v1/broadcasts', key(ws, 'csm'), broadcast(id, ws))).status).toBe(201);
      for (const id of ['x', `gone-${ws}`]) expect((await send('PUT', `/v1/segments/${id}`, key(ws, 'csm'), segment(ws))).status).toBe(200);
      expect(
        (await send('PUT', '/v1/admin/workspace/secrets/inapp_identity', key(ws, 'admin'), { value: IDENTITY_SECRET[ws] })).status,
      ).toBe(204);
      expect((await send('PUT', '/v1/admin/workspace/settings', key(ws, 'admin'), IN_APP_SETTINGS)).status).toBe(200);
      const conversations = engine.app.get(ConversationsService);
      const { conversation } = await conversations.receive(
        ws,
        'bob',
        { channel: 'inbox', body: MARK[ws], conversationId: conversationId(ws, 'rated') },
        'test',
      );
      await conversations.act(ws, 'bob', conversation.conversationId, { type: 'Resolve' }, { source: 'test' });
      conversationOf[ws] = conversation.conversationId;
    }
    await engine.app.get(ProjectionsService).waitForCatchUp();
    routes = listRoutes(engine.app).map((r) => `${r.method} ${r.path}`);
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function send(method: string, path: string, key: string | undefined, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: {
        ...(key !== undefined && { authorization: `Bearer ${key}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      // a Server-Sent Events stream never ends: its first chunk is the answer
      const reader = res.body!.getReader();
      const first = await reader.read();
      await reader.cancel();
      return { status: res.status, text: new TextDecoder().decode(first.value) };
    }
    return { status: res.status, text: await res.text() };
  }

  const pathOf = (route: string, params: Record<string, string> = {}) =>
    route.split(' ')[1].replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(params[name] ?? 'placeholder'));

  it('has a rule for every endpoint of the router, and the router and the OpenAPI document agree', async () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.filter((r) => !ruleOf(r))).toEqual([]);
    const docs = (await (await fetch(`${engine.url}/docs-json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(docs.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    expect([...documented].sort()).toEqual([...routes].sort());
  });

  /** Sends every probe of `kind` as `caller` of `ws`; returns what went against the rules. */
  async function probeAll(caller: Caller, ws: Workspace, kind: 'own' | 'other' | 'colliding'): Promise<string[]> {
    const failures: string[] = [];
    const auth = caller === 'none' ? undefined : caller === 'wrong' ? `not-a-key-${ws}` : key(ws, caller);
    for (const route of routes) {
      const rule = ruleOf(route)!;
      const probe = kind === 'own' ? rule.own(ws, ++requests) : kind === 'other' ? rule.other?.(ws) : rule.colliding;
      if (!probe) continue;
      const [method] = route.split(' ');
      const path = pathOf(route, probe.params) + (probe.query ?? '');
      if (rule.allow === 'customer-token') {
        // whatever the key: the customer token decides (the other workspace's secret does not verify it)
        const res = await send(method, path, auth, probe.body, probe.headers);
        const what = `${caller} of ${ws}: ${method} ${path} (${kind}, customer token) -> ${res.status} ${res.text.slice(0, 160)}`;
        const expected = kind === 'own' ? undefined : kind === 'other' ? 401 : rule.collidingStatus;
        if (expected === undefined ? !(res.status >= 200 && res.status < 300) : res.status !== expected)
          failures.push(`${what}: expected ${expected ?? 'a 2xx'}`);
        if (res.text.includes(MARK[OTHER[ws]])) failures.push(`${what}: holds data of workspace ${OTHER[ws]}`);
        if (kind === 'own') {
          const keyOnly = await send(method, path, auth, probe.body);
          if (keyOnly.status !== 401)
            failures.push(`${caller} of ${ws}: ${method} ${path} without a customer token -> ${keyOnly.status}: expected 401`);
        }
        continue;
      }
      const allowed =
        rule.allow === 'public' || (rule.allow !== 'own-auth' && caller !== 'none' && caller !== 'wrong' && rule.allow.includes(caller));
      const res = await send(method, path, auth, probe.body);
      const what = `${caller} of ${ws}: ${method} ${path} (${kind}) -> ${res.status} ${res.text.slice(0, 160)}`;
      if (res.status >= 500) failures.push(`${what}: a 5xx`);
      else if (rule.allow === 'own-auth') {
        if (res.status !== 401) failures.push(`${what}: expected 401 (no key opens it)`);
      } else if (!allowed) {
        const expected = caller === 'none' || caller === 'wrong' ? 401 : 403;
        if (res.status !== expected) failures.push(`${what}: expected ${expected}`);
      } else if (rule === ADMIN_DEFAULT) {
        if (res.status === 401 || res.status === 403) failures.push(`${what}: expected to be let through`);
      } else if (kind === 'own') {
        const unknownKey = probe.params?.id === 'key_unknown' && res.status === 404;
        if (!(res.status >= 200 && res.status < 300) && !unknownKey) failures.push(`${what}: expected a 2xx`);
      } else {
        const expected = kind === 'colliding' ? (rule.collidingStatus ?? 404) : 404;
        if (res.status !== expected) failures.push(`${what}: expected ${expected} (not this workspace's data)`);
      }
      if (res.text.includes(MARK[OTHER[ws]])) failures.push(`${what}: holds data of workspace ${OTHER[ws]}`);
    }
    return failures;
  }

  it.each(CALLERS)('answers caller %s as the rules say in both workspaces, with its own data only', async (caller) => {
    const failures: string[] = [];
    for (const ws of WORKSPACES) failures.push(...(await probeAll(caller, ws, 'own')), ...(await probeAll(caller, ws, 'other')));
    expect(failures).toEqual([]);
  });

  // Last: before stream ids escape the workspace (issue 9, item 3), these requests wrote into acme-eu's streams.
  it.each(CALLERS)('never lets caller %s of acme reach acme-eu through ids that collide with its streams', async (caller) => {
    expect(await probeAll(caller, 'acme', 'colliding')).toEqual([]);
  });
});
