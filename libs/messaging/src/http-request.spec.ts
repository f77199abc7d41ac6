import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { envelope, workspaceStreamId, type JourneyEvent, type RecordedEvent } from '@journey/domain';
import { DeliveryError, type RenderedMessage } from './channel';
import { HttpRequestChannel } from './http-request';
import { TemplateError, TemplateRenderer } from './templates';
import { WorkspaceSettingsReader } from './workspace-settings';

const secret = (name: string, value: string): JourneyEvent =>
  envelope({
    id: `secret-${name}`,
    type: 'WorkspaceSecretSet',
    data: { name, value },
    workspaceId: 'acme',
    customerId: '',
    occurredAt: '2026-12-04T12:00:00.000Z',
    recordedAt: '2026-12-04T12:00:00.000Z',
    source: 'test',
  });
const stream = [secret('crm_token', 'tok-SECRET-123'), secret('crm_host', '127.0.0.1')];
const store = {
  readStream: async (id: string, options?: { fromRevision?: bigint }) =>
    (id === workspaceStreamId('acme') ? stream : [])
      .map((e, i) => ({ ...e, streamId: id, revision: BigInt(i), position: BigInt(i + 1) }) as RecordedEvent)
      .filter((e) => e.revision >= (options?.fromRevision ?? 0n)),
};

describe('HttpRequestChannel (the templated webhook step)', () => {
  let server: Server;
  let port: number;
  let status = 201;
  const received: Array<{ method?: string; url?: string; headers: IncomingHttpHeaders; body: string }> = [];
  const channel = new HttpRequestChannel({ settings: new WorkspaceSettingsReader(store), timeoutMs: 2000 });
  const templates = new TemplateRenderer();
  const scope = { customer: { id: 'bob', traits: { name: 'Bob', plan: 'pro' } }, event: { seats: 12 } };
  const ctx = { idempotencyKey: 'm-1', attempt: 1, signal: new AbortController().signal };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(status, status === 302 ? { location: 'http://elsewhere.example/' } : {}).end('answer');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  async function prepare(request: { url: string; method: 'POST' | 'GET' | 'PUT'; headers?: Record<string, string> }, body: string) {
    const content = await channel.render({ body }, scope, { workspaceId: 'acme', customerId: 'bob', request, templates });
    const message: RenderedMessage = { messageId: 'm-1', channel: 'http', workspaceId: 'acme', customerId: 'bob', traits: {}, ...content };
    return message;
  }

  it('renders a secret into a header and the URL, and a Liquid body, and sends them', async () => {
    const message = await prepare(
      {
        url: `http://{{ secrets.crm_host }}:${port}/contacts/{{ customer.id | url_encode }}`,
        method: 'PUT',
        headers: { Authorization: 'Bearer {{ secrets.crm_token }}', 'X-Plan': '{{ customer.traits.plan }}' },
      },
      '{"name": {{ customer.traits.name | json }}, "seats": {{ event.seats }}}',
    );
    await expect(channel.send(message, ctx)).resolves.toEqual({ detail: 'HTTP 201' });
    const got = received.at(-1)!;
    expect(got.method).toBe('PUT');
    expect(got.url).toBe('/contacts/bob');
    expect(got.headers.authorization).toBe('Bearer tok-SECRET-123');
    expect(got.headers['x-plan']).toBe('pro');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['idempotency-key']).toBe('m-1');
    expect(JSON.parse(got.body)).toEqual({ name: 'Bob', seats: 12 });
  });

  it('sends no body with GET', async () => {
    await channel.send(await prepare({ url: `http://127.0.0.1:${port}/ping?c={{ customer.id }}`, method: 'GET' }, 'ignored'), ctx);
    expect(received.at(-1)).toMatchObject({ method: 'GET', url: '/ping?c=bob', body: '' });
  });

  it('a secret that is not set is a template error naming the part', async () => {
    const rendering = prepare({ url: `http://127.0.0.1:${port}/`, method: 'POST', headers: { 'X-Key': '{{ secrets.missing }}' } }, 'x');
    await expect(rendering).rejects.toThrow(TemplateError);
    await expect(rendering).rejects.toThrow(/^headers.X-Key: .*missing/);
  });

  it('refuses a URL that renders to another scheme, or to no URL, and a header value with a line break', async () => {
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'not a url', '{{ customer.traits.plan }}://x']) {
      const error = await channel.send(await prepare({ url, method: 'POST' }, 'x'), ctx).catch((e) => e);
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ retryable: false });
    }
    const error = await channel
      .send(await prepare({ url: `http://127.0.0.1:${port}/`, method: 'POST', headers: { 'X-A': 'a\r\nX-Injected: 1' } }, 'x'), ctx)
      .catch((e) => e);
    expect(error).toMatchObject({ retryable: false, message: expect.stringMatching(/line break/) });
  });

  it('classifies answers as the webhook does: 4xx failed (408 and 429 retried), 5xx retried, a redirect not followed', async () => {
    const send = async () =>
      channel.send(await prepare({ url: `http://127.0.0.1:${port}/`, method: 'POST' }, 'plain text'), ctx).catch((e) => e);
    try {
      for (const [code, retryable] of [
        [400, false],
        [404, false],
        [408, true],
        [429, true],
        [500, true],
        [503, true],
        [302, false],
      ] as const) {
        status = code;
        expect(await send()).toMatchObject({ retryable, message: expect.stringContaining(`answered HTTP ${code}`) });
      }
      expect(received.at(-1)!.headers['content-type']).toBe('text/plain; charset=utf-8');
    } finally {
      status = 201;
    }
    const unreachable = await channel.send(await prepare({ url: 'http://127.0.0.1:1/', method: 'POST' }, 'x'), ctx).catch((e) => e);
    expect(unreachable).toMatchObject({ retryable: true, message: expect.stringMatching(/unreachable/) });
  });
});
