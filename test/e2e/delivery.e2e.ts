import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { customerStreamId, type JourneyEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { webhookSignature } from '@journey/messaging';
import { startEngine, type TestEngine } from './support';
import { waitFor } from '../support/wait';

const WS = 'default';
const SECRET = 'e2e-secret';

describe('Delivery (in-process engine)', () => {
  let engine: TestEngine;
  let store: EventStore;
  let hook: Server;
  const received: Array<{ headers: IncomingHttpHeaders; raw: string }> = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ headers: req.headers, raw });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    engine = await startEngine({
      env: { JOURNEY_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, JOURNEY_WEBHOOK_SECRET: SECRET },
    });
    store = engine.app.get(EVENT_STORE);
  });
  afterAll(async () => {
    await engine?.close();
    hook.closeAllConnections();
    await new Promise((r) => hook.close(r));
  });

  const get = async (path: string, authorization: string) => {
    const res = await fetch(`${engine.url}${path}`, { headers: { authorization } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const post = async (path: string, authorization: string, body: unknown = {}) => {
    const res = await fetch(`${engine.url}${path}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  async function schedule(customerId: string, data: Record<string, unknown>): Promise<string> {
    const messageId = randomUUID();
    const at = new Date().toISOString();
    const event: JourneyEvent = {
      id: randomUUID(),
      type: 'MessageScheduled',
      data: { messageId, ...data },
      metadata: { workspaceId: WS, customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
    };
    await store.appendToStream(customerStreamId(WS, customerId), [event]);
    return messageId;
  }

  it('delivers an inbox message that GET /v1/customers/:id/inbox then lists, rendered, and records opens', async () => {
    const user = `u-${randomUUID()}`;
    expect((await post('/v1/identify', engine.auth.write, { userId: user, traits: { name: 'Ann' } })).status).toBe(200);
    const messageId = await schedule(user, {
      channel: 'inbox',
      template: { subject: 'Welcome {{ customer.traits.name }}', body: 'Hi {{ customer.traits.name }}, here is a tip.' },
    });

    const inbox = await waitFor(async () => {
      const res = await get(`/v1/customers/${user}/inbox`, engine.auth.admin);
      return res.body.messages?.length ? res : undefined;
    }, 'the inbox message');
    expect(inbox.status).toBe(200);
    expect(inbox.body).toEqual({
      customerId: user,
      messages: [{ messageId, subject: 'Welcome Ann', body: 'Hi Ann, here is a tip.', deliveredAt: expect.any(String), opened: false }],
    });

    expect((await get(`/v1/customers/${user}/inbox`, engine.auth.write)).status).toBe(403);
    expect((await post(`/v1/customers/${user}/inbox/${randomUUID()}/opened`, engine.auth.write)).status).toBe(404);
    expect(await post(`/v1/customers/${user}/inbox/${messageId}/opened`, engine.auth.write)).toEqual({
      status: 200,
      body: { success: true },
    });
    expect(await post(`/v1/customers/${user}/inbox/${messageId}/opened`, engine.auth.write)).toEqual({
      status: 200,
      body: { success: true },
    });
    const opened = await get(`/v1/customers/${user}/inbox`, engine.auth.admin);
    expect(opened.body.messages).toEqual([expect.objectContaining({ messageId, opened: true, openedAt: expect.any(String) })]);
    const opens = (await store.readStream(customerStreamId(WS, user))).filter((e) => e.type === 'MessageOpened');
    expect(opens).toHaveLength(1);

    const metrics = await fetch(`${engine.url}/metrics`, { headers: { authorization: engine.auth.admin } }).then((r) => r.text());
    expect(metrics).toMatch(/journey_messages_total\{channel="inbox",outcome="delivered"\} [1-9]/);
  });

  it('sends webhook messages to JOURNEY_WEBHOOK_URL signed with JOURNEY_WEBHOOK_SECRET, and suppresses unconfigured channels', async () => {
    const user = `u-${randomUUID()}`;
    const hooked = await schedule(user, { channel: 'webhook', template: { body: 'ping {{ customer.id }}' } });
    const mailed = await schedule(user, { channel: 'email', template: { body: 'no SMTP_URL here' } });
    const request = await waitFor(async () => received.find((r) => r.headers['idempotency-key'] === hooked), 'the webhook request');
    expect(JSON.parse(request.raw)).toMatchObject({ messageId: hooked, body: `ping ${user}` });
    expect(request.headers['x-journey-signature']).toBe(webhookSignature(SECRET, request.raw));

    const outcomes = await waitFor(async () => {
      const events = (await store.readStream(customerStreamId(WS, user))).filter(
        (e) => e.type === 'MessageDelivered' || e.type === 'MessageSuppressed',
      );
      return events.length === 2 ? events : undefined;
    }, 'both outcomes');
    expect(outcomes.map((e) => [e.type, (e.data as { messageId: string }).messageId])).toEqual(
      expect.arrayContaining([
        ['MessageDelivered', hooked],
        ['MessageSuppressed', mailed],
      ]),
    );
  });
});
