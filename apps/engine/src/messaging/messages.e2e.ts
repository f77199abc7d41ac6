import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { spawnEngine, type EngineProcess } from '../../../../test/support/engine-process';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { waitFor } from '../../../../test/support/wait';

const WS = 'default';
const CSM = 'Bearer csm-key-resend-e2e';
const OTHER_ADMIN = 'Bearer other-ws-admin-resend-e2e';

describe('POST /v1/messages/:id/resend', () => {
  let engine: TestEngine;
  let store: EventStore;
  let hook: Server;
  let dataDir: string;
  /** The receiver refuses (permanent 400) until it is up. */
  let up = false;
  const received: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ headers: req.headers, body: JSON.parse(raw) });
        res.writeHead(up ? 200 : 400).end(up ? 'ok' : 'not yet');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    dataDir = mkdtempSync(join(tmpdir(), 'journey-resend-e2e-'));
    writeFileSync(
      join(dataDir, 'keys.json'),
      JSON.stringify({
        keys: [
          { key: 'csm-key-resend-e2e', workspaceId: WS, role: 'csm' },
          { key: 'other-ws-admin-resend-e2e', workspaceId: 'other', role: 'admin' },
        ],
      }),
    );
    engine = await startEngine({ dataDir, env: { JOURNEY_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` } });
    store = engine.app.get(EVENT_STORE);
  });
  afterAll(async () => {
    await engine?.close();
    hook?.closeAllConnections();
    await new Promise((r) => hook?.close(r));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, authorization: string) => {
    const res = await fetch(`${engine.url}${path}`, { method, headers: { authorization } });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  async function schedule(customerId: string): Promise<string> {
    const messageId = randomUUID();
    const at = new Date().toISOString();
    const event: JourneyEvent = {
      id: randomUUID(),
      type: 'MessageScheduled',
      data: { messageId, channel: 'webhook', template: { body: 'Hi {{ customer.id }}' } },
      metadata: { workspaceId: WS, customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
    };
    await store.appendToStream(customerStreamId(WS, customerId), [event]);
    return messageId;
  }
  const own = async (customerId: string, messageId: string): Promise<RecordedEvent[]> =>
    (await store.readStream(customerStreamId(WS, customerId))).filter((e) => e.data.messageId === messageId);
  /** Explain answers once the messages read model has the message in this status. */
  const explained = (messageId: string, status: string) =>
    waitFor(async () => {
      const res = await call('GET', `/v1/messages/${messageId}/explain`, engine.auth.admin);
      return res.status === 200 && res.body.status === status ? res.body : undefined;
    }, `explain to say ${status}`);

  it('re-sends a failed message with the same Idempotency-Key, once, and explain shows it; 404, 409 and 403 otherwise', async () => {
    const user = `u-${randomUUID()}`;
    const messageId = await schedule(user);
    await explained(messageId, 'failed');
    expect(received.filter((r) => r.headers['idempotency-key'] === messageId)).toHaveLength(1);

    expect((await call('POST', `/v1/messages/${messageId}/resend`, engine.auth.write)).status).toBe(403);
    expect((await call('POST', `/v1/messages/${messageId}/resend`, CSM)).status).toBe(403);
    // Another workspace's admin does not see it.
    expect((await call('POST', `/v1/messages/${messageId}/resend`, OTHER_ADMIN)).status).toBe(404);
    const unknown = await call('POST', `/v1/messages/${randomUUID()}/resend`, engine.auth.admin);
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/^id: no message/);

    up = true;
    expect(await call('POST', `/v1/messages/${messageId}/resend`, engine.auth.admin)).toEqual({
      status: 202,
      body: { messageId, resend: 1 },
    });
    const explanation = await explained(messageId, 'delivered');
    expect(explanation.delivery.map((d: { type: string }) => d.type)).toEqual([
      'MessageSent',
      'MessageFailed',
      'MessageResendRequested',
      'MessageSent',
      'MessageDelivered',
    ]);
    expect(explanation.delivery[2]).toMatchObject({ type: 'MessageResendRequested', detail: 're-send 1 requested' });
    expect(received.filter((r) => r.headers['idempotency-key'] === messageId).map((r) => r.body.attempt)).toEqual([1, 2]);

    // Delivered now: nothing to re-send.
    const again = await call('POST', `/v1/messages/${messageId}/resend`, engine.auth.admin);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/is delivered; only a failed message can be re-sent/);
    expect((await own(user, messageId)).filter((e) => e.type === 'MessageResendRequested')).toHaveLength(1);
  });

  it('answers 409 for a message that has not failed yet', async () => {
    const user = `u-${randomUUID()}`;
    const at = new Date().toISOString();
    const messageId = randomUUID();
    const later: JourneyEvent = {
      id: randomUUID(),
      type: 'MessageScheduled',
      data: { messageId, channel: 'webhook', template: { body: 'later' }, notBefore: new Date(Date.now() + 3_600_000).toISOString() },
      metadata: { workspaceId: WS, customerId: user, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 },
    };
    await store.appendToStream(customerStreamId(WS, user), [later]);
    await explained(messageId, 'scheduled');
    const res = await call('POST', `/v1/messages/${messageId}/resend`, engine.auth.admin);
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/not resolved yet/);
  });
});

describe('re-send across threads (the engine as `npm start` runs it: the dispatcher in the worker thread)', () => {
  let engine: EngineProcess | undefined;
  let hook: Server;
  let dataDir: string;
  let up = false;
  const received: Array<{ key: unknown; messageId: string; attempt: number }> = [];

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const body = JSON.parse(raw) as { messageId: string; attempt: number };
        received.push({ key: req.headers['idempotency-key'], messageId: body.messageId, attempt: body.attempt });
        res.writeHead(up ? 200 : 400).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    dataDir = mkdtempSync(join(tmpdir(), 'journey-resend-threads-e2e-'));
    engine = await spawnEngine({ dataDir, env: { JOURNEY_WEBHOOK_URL: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` } });
  });
  afterAll(async () => {
    await engine?.kill();
    hook?.closeAllConnections();
    await new Promise((r) => hook?.close(r));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a request answered by the API thread is acted on by the dispatcher in the worker thread', async () => {
    const e = engine!;
    const admin = `Bearer ${e.adminKey}`;
    const send = async (method: string, path: string, authorization: string, body?: unknown) => {
      const res = await fetch(`${e.url}${path}`, {
        method,
        headers: { authorization, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, any> };
    };
    const trigger = {
      id: 'resend-hook',
      name: 'Webhook on sign-up',
      entry: { event: 'Signed Up' },
      steps: [{ send: { channel: 'webhook', body: 'Welcome {{ customer.id }}' } }],
    };
    expect((await send('POST', '/v1/triggers', admin, trigger)).status).toBe(201);
    expect((await send('POST', `/v1/triggers/${trigger.id}/enable`, admin)).status).toBe(200);
    const write = `Basic ${Buffer.from(`${e.writeKey}:`).toString('base64')}`;
    expect((await send('POST', '/v1/track', write, { userId: `u-${randomUUID()}`, event: 'Signed Up' })).status).toBe(200);

    const [first] = await waitFor(async () => (received.length > 0 ? received : undefined), 'the first webhook request', 20_000);
    await waitFor(
      async () => ((await send('GET', `/v1/messages/${first.messageId}/explain`, admin)).body.status === 'failed' ? true : undefined),
      'the message failed',
      20_000,
    );
    up = true;
    expect(await send('POST', `/v1/messages/${first.messageId}/resend`, admin)).toEqual({
      status: 202,
      body: { messageId: first.messageId, resend: 1 },
    });
    await waitFor(
      async () => ((await send('GET', `/v1/messages/${first.messageId}/explain`, admin)).body.status === 'delivered' ? true : undefined),
      'the re-sent message delivered',
      20_000,
    );
    expect(received).toEqual([
      { key: first.messageId, messageId: first.messageId, attempt: 1 },
      { key: first.messageId, messageId: first.messageId, attempt: 2 },
    ]);
  });
});
