/**
 * The conversation story end to end, over HTTP only, on the engine the README starts (all roles, on 127.0.0.1):
 * an admin sets up the in-app channel, a support team with an SLA and a CSM who has a key; the shipped triage trigger
 * is deployed; Bob writes from his in-app client, unhappy; the trigger hands him to the team, the CSM gets it, reads
 * his context, answers (Bob's open client is pushed the answer), a stale If-Match is refused, the CSM resolves, Bob
 * rates it, and the timeline, the analytics and the metrics say so.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { eventually } from '../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from './support';

const SECRET = 'bob-app-identity-secret';
const token = (customerId: string) => createHmac('sha256', SECRET).update(customerId).digest('hex');

describe('a conversation, from an unhappy in-app message to a rated resolution', () => {
  let engine: TestEngine;
  let csmKey: string;

  beforeAll(async () => {
    engine = await startEngine();
  });
  afterAll(async () => {
    await engine?.close();
  });

  async function api(method: string, path: string, body?: unknown, auth = engine.auth.admin, headers: Record<string, string> = {}) {
    const res = await fetch(`${engine.url}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined && { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, etag: res.headers.get('etag'), body: text ? (JSON.parse(text) as Record<string, any>) : {} };
  }
  const client = (method: string, path: string, body?: unknown) =>
    fetch(`${engine.url}/v1/client/default${path}`, {
      method,
      headers: {
        'x-customer-id': 'bob',
        'x-customer-token': token('bob'),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('hands the customer to a person, who answers, resolves and is rated; every figure follows', async () => {
    // setup by an admin: the in-app identity secret, a team with an SLA, a member with a csm key
    expect((await api('PUT', '/v1/admin/workspace/secrets/inapp_identity', { value: SECRET })).status).toBe(204);
    expect(
      (await api('PUT', '/v1/admin/workspace/settings', { inApp: { allowedOrigins: [], identitySecret: 'inapp_identity' } })).status,
    ).toBe(200);
    const team = { teamId: 'support', name: 'Support', timeZone: 'UTC', sla: { high: { firstResponse: '4h', resolution: '2d' } } };
    expect((await api('PUT', '/v1/teams/support', team)).status).toBe(200);
    expect((await api('PUT', '/v1/members/ann', { memberId: 'ann', name: 'Ann', teams: ['support'] })).status).toBe(200);
    const created = await api('POST', '/v1/admin/keys', { role: 'csm', name: 'Ann', memberId: 'ann' });
    expect(created.status).toBe(201);
    csmKey = `Bearer ${created.body.key}`;
    const triage = parse(readFileSync(join(__dirname, '../../triggers/library/support-reply-triage.yaml'), 'utf8')) as unknown;
    expect((await api('POST', '/v1/triggers', triage, csmKey)).status).toBe(201);
    expect((await api('POST', '/v1/triggers/support-reply-triage/enable', undefined, csmKey)).status).toBe(200);
    // what a person does is recorded as theirs
    expect(JSON.stringify((await api('GET', '/v1/triggers/support-reply-triage', undefined, csmKey)).body)).toContain('http:csm:ann');
    expect((await api('POST', '/v1/identify', { userId: 'bob', traits: { name: 'Bob', plan: 'pro' } }, engine.auth.write)).status).toBe(
      200,
    );

    // Bob's client opens its live stream, then Bob writes, unhappy
    const stream = await client('GET', '/stream');
    expect(stream.status).toBe(200);
    const pushed: string[] = [];
    const reader = stream.body!.getReader();
    void (async () => {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) pushed.push(Buffer.from(chunk.value).toString());
    })().catch(() => undefined);
    const wrote = await client('POST', '/conversations', {
      body: 'This is terrible, the export is broken again and I lost my data',
      clientMessageId: 'b1',
    });
    expect(wrote.status).toBe(201);
    const { conversationId } = (await wrote.json()) as { conversationId: string };

    // the trigger tags it and hands it to support, high priority; Ann, the only member, gets it
    const path = `/v1/customers/bob/conversations/${conversationId}`;
    const handedOff = await eventually(async () => {
      const got = await api('GET', path, undefined, csmKey);
      expect(got.body).toMatchObject({ assignee: 'ann', team: 'support', priority: 'high', tags: ['unhappy'], status: 'open' });
      return got;
    }, 10_000);
    // the context an agent needs not to ask again
    const context = await api('GET', '/v1/customers/bob/context', undefined, csmKey);
    expect(context.status).toBe(200);
    expect(context.body.traits).toMatchObject({ name: 'Bob', plan: 'pro' });
    expect(JSON.stringify(context.body)).toContain(conversationId);

    // Ann answers under the version she read; an answer under an older version is refused, and changes nothing
    const answered = await api('POST', `${path}/replies`, { body: 'Sorry Bob, restoring your export now.' }, csmKey, {
      'if-match': handedOff.etag!,
    });
    expect(answered.status).toBe(200);
    const stale = await api('POST', `${path}/replies`, { body: 'Twice?' }, csmKey, { 'if-match': handedOff.etag! });
    expect(stale.status).toBe(412);
    // Bob's open client is pushed the answer; he never sees the team's internal note
    expect((await api('POST', `${path}/notes`, { body: 'INTERNAL: check the backup job' }, csmKey)).status).toBe(200);
    await eventually(() => expect(pushed.join('')).toContain('restoring your export'), 5_000);
    const inbox = await client('GET', '/inbox');
    expect(JSON.stringify(await inbox.json())).not.toContain('INTERNAL');

    // resolved, then rated by Bob; replying to a resolved conversation is refused
    expect((await api('POST', `${path}/resolve`, undefined, csmKey)).status).toBe(200);
    expect((await api('POST', `${path}/replies`, { body: 'one more thing' }, csmKey)).status).toBe(409);
    expect((await client('POST', `/conversations/${conversationId}/rating`, { score: 5, comment: 'Quick, thanks' })).status).toBeLessThan(
      300,
    );
    await reader.cancel();

    // the timeline tells the story; the analytics and the metrics count it
    const timeline = await api('GET', '/v1/customers/bob/timeline', undefined, csmKey);
    const types = (timeline.body.entries as Array<{ type: string }>).map((e) => e.type);
    for (const type of [
      'ConversationStarted',
      'CustomerReplied',
      'ConversationTagged',
      'ConversationAssigned',
      'AgentReplied',
      'ConversationResolved',
      'SatisfactionRated',
    ])
      expect(types).toContain(type);
    await eventually(async () => {
      const figures = await api('GET', '/v1/analytics/conversations?groupBy=team', undefined, csmKey);
      expect(figures.status).toBe(200);
      expect(JSON.stringify(figures.body)).toContain('support');
      expect(figures.body.overall).toMatchObject({ conversations: 1, csat: { average: 5 } });
    }, 10_000);
    const metrics = await fetch(`${engine.url}/metrics`, { headers: { authorization: engine.auth.admin } }).then((r) => r.text());
    expect(metrics).toMatch(/conversations_resolved_total\{[^}]*automated="false"[^}]*\} 1/);
  });
});
