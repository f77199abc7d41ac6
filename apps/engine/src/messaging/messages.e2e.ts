import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { customerStreamId, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
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
    const event: JourneyEvent = { id: randomUUID(), type: 'MessageScheduled', data: { messageId, channel: 'webhook', template: { body: 'Hi {{ customer.id }}' } }, metadata: { workspaceId: WS, customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 } };
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
    expect(await call('POST', `/v1/messages/${messageId}/resend`, engine.auth.admin)).toEqual({ status: 202, body: { messageId, resend: 1 } });
    const explanation = await explained(messageId, 'delivered');
    expect(explanation.delivery.map((d: { type: string }) => d.type)).toEqual(['MessageSent', 'MessageFailed', 'MessageResendRequested', 'MessageSent', 'MessageDelivered']);
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
