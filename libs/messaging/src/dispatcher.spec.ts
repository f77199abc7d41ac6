import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import {
  customerStreamId,
  evolveDelivery,
  initialDeliveryState,
  requestResend,
  type JourneyEvent,
  type RecordedEvent,
} from '@journey/domain';
import { SqliteCheckpointStore, SqliteEventStore, openSqliteDatabase, type EventStore } from '@journey/event-store';
import { InboxChannel, LogChannel, type Channel } from './channel';
import { Dispatcher, type DispatcherOptions } from './dispatcher';
import { EmailChannel } from './email';
import { inboxFromStream } from './inbox';
import { WebhookChannel, webhookSignature } from './webhook';
import { until, waitFor } from '../../../test/support/wait';

const dir = mkdtempSync(join(tmpdir(), 'journey-dispatch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const FAST = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 };
const SECRET = 'shh';
const WS = 'w';

function event(type: string, customerId: string, data: Record<string, unknown>, id = randomUUID()): JourneyEvent {
  const at = new Date().toISOString();
  return { id, type, data, metadata: { workspaceId: WS, customerId, occurredAt: at, recordedAt: at, source: 'test', schemaVersion: 1 } };
}

/** A store, a customer with traits, and dispatchers that the test starts and stops. */
function fixture() {
  const db = openSqliteDatabase(join(dir, `${randomUUID()}.db`));
  const store: EventStore = new SqliteEventStore(db);
  const checkpoints = new SqliteCheckpointStore(db);
  const running: Dispatcher[] = [];
  const outcomes: string[] = [];
  const customer = 'c-' + randomUUID().slice(0, 8);
  const stream = customerStreamId(WS, customer);
  return {
    store,
    checkpoints,
    outcomes,
    stream,
    async identify(traits: Record<string, unknown>) {
      await store.appendToStream(stream, [event('CustomerIdentified', customer, { userId: customer, traits })]);
    },
    async schedule(data: Record<string, unknown>) {
      const messageId = randomUUID();
      await store.appendToStream(stream, [event('MessageScheduled', customer, { messageId, ...data })]);
      return messageId;
    },
    async start(channels: Channel[], options: Partial<DispatcherOptions> = {}) {
      const d = new Dispatcher({ store, checkpoints, channels, retry: FAST, onOutcome: (c, o) => outcomes.push(`${c}:${o}`), ...options });
      running.push(d);
      await d.start();
      return d;
    },
    async messageEvents(messageId: string): Promise<RecordedEvent[]> {
      return (await store.readStream(stream)).filter(
        (e) => (e.data as { messageId?: string }).messageId === messageId && e.type !== 'MessageScheduled',
      );
    },
    async outcome(messageId: string): Promise<RecordedEvent | undefined> {
      return (await this.messageEvents(messageId)).find((e) => ['MessageDelivered', 'MessageFailed', 'MessageSuppressed'].includes(e.type));
    },
    async close() {
      for (const d of running) await d.stop();
      await store.close();
      db.close();
    },
  };
}

interface Received {
  headers: IncomingMessage['headers'];
  raw: string;
  body: Record<string, unknown>;
  at: number;
}

/** A webhook receiver on 127.0.0.1; `reply` decides each answer by request number (1-based): a status, or 'hang'. */
async function webhookReceiver(reply: (n: number) => number | 'hang') {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      received.push({ headers: req.headers, raw, body: JSON.parse(raw), at: Date.now() });
      const answer = reply(received.length);
      if (answer === 'hang') return;
      res.writeHead(answer, { 'content-type': 'text/plain' }).end(answer >= 400 ? 'nope' : 'ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('Dispatcher with the webhook channel', () => {
  it('delivers a rendered, signed message once, with the messageId as Idempotency-Key', async () => {
    const f = fixture();
    const hook = await webhookReceiver(() => 202);
    try {
      await f.identify({ name: 'Ann', email: 'ann@example.com' });
      const cause = event('InteractionRecorded', 'ignored', { event: 'Report Created', properties: { report: 'Churn' } });
      await f.store.appendToStream(f.stream, [cause]);
      const messageId = await f.schedule({
        channel: 'webhook',
        template: { subject: 'Hi {{ customer.traits.name }}', body: 'Your {{ event.report }} report is ready' },
        causingEventId: cause.id,
      });
      await f.start([new WebhookChannel({ url: hook.url, secret: SECRET })]);
      const outcome = await waitFor(() => f.outcome(messageId), 'an outcome');
      expect(outcome).toMatchObject({ type: 'MessageDelivered', data: { messageId, channel: 'webhook', attempt: 1, detail: 'HTTP 202' } });
      expect(hook.received).toHaveLength(1);
      const [req] = hook.received;
      expect(req.body).toMatchObject({
        messageId,
        customerId: f.stream.slice(`customer-${WS}-`.length),
        subject: 'Hi Ann',
        body: 'Your Churn report is ready',
        attempt: 1,
      });
      expect(req.headers['idempotency-key']).toBe(messageId);
      expect(req.headers['x-journey-signature']).toBe(webhookSignature(SECRET, req.raw));
      expect(req.headers['x-journey-signature']).not.toBe(webhookSignature('other secret', req.raw));
      expect(req.headers['x-journey-timestamp']).toBe(req.body.sentAt);
      expect((await f.messageEvents(messageId)).map((e) => e.type)).toEqual(['MessageSent', 'MessageDelivered']);
      // counted once its append is durable (readable in the log a moment before: the WAL's fdatasync comes after the commit)
      await until(() => f.outcomes.length >= 2, 'the outcome counted');
      expect(f.outcomes).toEqual(['webhook:sent', 'webhook:delivered']);
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('retries on 500 with backoff and the same idempotency key, then delivers', async () => {
    const f = fixture();
    const hook = await webhookReceiver((n) => (n < 3 ? 500 : 200));
    try {
      const messageId = await f.schedule({ channel: 'webhook', template: { body: 'hello' } });
      await f.start([new WebhookChannel({ url: hook.url, secret: SECRET })]);
      const outcome = await waitFor(() => f.outcome(messageId), 'an outcome');
      expect(outcome).toMatchObject({ type: 'MessageDelivered', data: { attempt: 3 } });
      expect(hook.received.map((r) => [r.headers['idempotency-key'], r.body.attempt])).toEqual([
        [messageId, 1],
        [messageId, 2],
        [messageId, 3],
      ]);
      for (const r of hook.received) expect(r.headers['x-journey-signature']).toBe(webhookSignature(SECRET, r.raw));
      expect((await f.messageEvents(messageId)).map((e) => e.type)).toEqual([
        'MessageSent',
        'MessageSent',
        'MessageSent',
        'MessageDelivered',
      ]);
      expect(f.outcomes.filter((o) => o === 'webhook:retried')).toHaveLength(2);
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('fails at once on a permanent 400, without retrying', async () => {
    const f = fixture();
    const hook = await webhookReceiver(() => 400);
    try {
      const messageId = await f.schedule({ channel: 'webhook', template: { body: 'hello' } });
      const d = await f.start([new WebhookChannel({ url: hook.url })]);
      const outcome = await waitFor(() => f.outcome(messageId), 'an outcome');
      expect(outcome).toMatchObject({ type: 'MessageFailed', data: { attempts: 1, error: 'webhook answered HTTP 400: nope' } });
      await d.whenIdle();
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0].headers['x-journey-signature']).toBeUndefined();
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('retries after a timeout, and fails after the last attempt when the receiver is unreachable', async () => {
    const f = fixture();
    const hook = await webhookReceiver((n) => (n === 1 ? 'hang' : 200));
    try {
      const slow = await f.schedule({ channel: 'webhook', template: { body: 'slow' } });
      await f.start([new WebhookChannel({ url: hook.url, timeoutMs: 300 })]);
      expect(await waitFor(() => f.outcome(slow), 'an outcome')).toMatchObject({ type: 'MessageDelivered', data: { attempt: 2 } });
      expect(hook.received.map((r) => r.body.attempt)).toEqual([1, 2]);
    } finally {
      await hook.close();
      await f.close();
    }
    const g = fixture();
    try {
      const refused = await g.schedule({ channel: 'webhook', template: { body: 'x' } });
      await g.start([new WebhookChannel({ url: 'http://127.0.0.1:9/closed', timeoutMs: 2000 })]);
      const outcome = await waitFor(() => g.outcome(refused), 'an outcome');
      expect(outcome).toMatchObject({ type: 'MessageFailed', data: { attempts: 3, error: expect.stringMatching(/^webhook unreachable/) } });
    } finally {
      await g.close();
    }
  });
});

describe('Dispatcher across restarts', () => {
  it('sends a message cut off mid-send again with the same key, and never resends a delivered one', async () => {
    const f = fixture();
    const hook = await webhookReceiver((n) => (n === 1 ? 'hang' : 200));
    try {
      const messageId = await f.schedule({ channel: 'webhook', template: { body: 'once' } });
      const first = await f.start([new WebhookChannel({ url: hook.url, timeoutMs: 30_000 })]);
      await waitFor(() => hook.received.length === 1, 'the first request');
      expect((await f.messageEvents(messageId)).map((e) => e.type)).toEqual(['MessageSent']);
      await first.stop(); // stopped after MessageSent, before the outcome
      expect(await f.outcome(messageId)).toBeUndefined();

      await f.start([new WebhookChannel({ url: hook.url })]);
      expect(await waitFor(() => f.outcome(messageId), 'an outcome')).toMatchObject({ type: 'MessageDelivered', data: { attempt: 2 } });
      expect(hook.received.map((r) => [r.headers['idempotency-key'], r.body.attempt])).toEqual([
        [messageId, 1],
        [messageId, 2],
      ]);

      // A third dispatcher, even one that lost its checkpoint and re-reads the whole log, does not send it again.
      await f.checkpoints.set('dispatcher', 0n);
      const third = await f.start([new WebhookChannel({ url: hook.url })]);
      await third.whenIdle();
      expect(hook.received).toHaveLength(2);
      expect((await f.messageEvents(messageId)).map((e) => e.type)).toEqual(['MessageSent', 'MessageSent', 'MessageDelivered']);
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('waits for notBefore, durably: a message still waiting when the dispatcher stops is sent by the next one', async () => {
    const f = fixture();
    const hook = await webhookReceiver(() => 200);
    try {
      const notBefore = new Date(Date.now() + 700);
      const messageId = await f.schedule({ channel: 'webhook', template: { body: 'later' }, notBefore: notBefore.toISOString() });
      const first = await f.start([new WebhookChannel({ url: hook.url })]);
      await first.whenIdle();
      expect(first.pendingCount).toBe(1);
      await first.stop();
      expect((await f.checkpoints.get('dispatcher')) ?? 0n).toBeLessThan((await f.store.readStream(f.stream))[0].position);

      await f.start([new WebhookChannel({ url: hook.url })]);
      expect(await waitFor(() => f.outcome(messageId), 'an outcome')).toMatchObject({ type: 'MessageDelivered' });
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0].at).toBeGreaterThanOrEqual(notBefore.getTime());
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('drops a waiting message whose outcome another writer recorded first', async () => {
    const f = fixture();
    const hook = await webhookReceiver(() => 200);
    try {
      const messageId = await f.schedule({
        channel: 'webhook',
        template: { body: 'later' },
        notBefore: new Date(Date.now() + 60_000).toISOString(),
      });
      const d = await f.start([new WebhookChannel({ url: hook.url })]);
      await d.whenIdle();
      expect(d.pendingCount).toBe(1);
      await f.store.appendToStream(f.stream, [event('MessageSuppressed', 'x', { messageId, channel: 'webhook', reason: 'cancelled' })]);
      await waitFor(() => d.pendingCount === 0, 'the message to leave the pending set');
      const head = await f.store.headPosition();
      await waitFor(async () => (await f.checkpoints.get('dispatcher')) === head, 'the checkpoint to pass the resolved message');
      expect(hook.received).toHaveLength(0);
    } finally {
      await hook.close();
      await f.close();
    }
  });
});

describe('Dispatcher suppressions', () => {
  it('suppresses unknown channels and template errors instead of sending', async () => {
    const f = fixture();
    const hook = await webhookReceiver(() => 200);
    try {
      await f.identify({ name: 'Ann' });
      const unknown = await f.schedule({ channel: 'pigeon', template: { body: 'coo' } });
      const broken = await f.schedule({ channel: 'webhook', template: { body: 'Hi {{ customer.traits.surname }}' } });
      await f.start([new WebhookChannel({ url: hook.url })]);
      expect(await waitFor(() => f.outcome(unknown), 'an outcome')).toMatchObject({
        type: 'MessageSuppressed',
        data: { reason: 'unknown-channel', detail: expect.stringContaining('"pigeon"') },
      });
      expect(await waitFor(() => f.outcome(broken), 'an outcome')).toMatchObject({
        type: 'MessageSuppressed',
        data: { reason: 'template-error', detail: 'body: undefined variable: customer.traits.surname, line:1, col:7' },
      });
      expect(hook.received).toHaveLength(0);
      expect((await f.messageEvents(broken)).map((e) => e.type)).toEqual(['MessageSuppressed']);
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('logs through the log channel, and suppresses messages to a forgotten customer', async () => {
    const f = fixture();
    const lines: Array<[Record<string, unknown>, string]> = [];
    try {
      await f.identify({ name: 'Ann' });
      const logged = await f.schedule({ channel: 'log', template: { body: 'Hi {{ customer.traits.name }}' } });
      const d = await f.start([
        new LogChannel({ info: (obj: object, msg: string) => lines.push([obj as Record<string, unknown>, msg]) } as never),
      ]);
      expect(await waitFor(() => f.outcome(logged), 'an outcome')).toMatchObject({ type: 'MessageDelivered', data: { detail: 'logged' } });
      expect(lines).toEqual([[expect.objectContaining({ channel: 'log', messageId: logged, body: 'Hi Ann', attempt: 1 }), 'message']]);
      await f.store.appendToStream(f.stream, [event('CustomerForgotten', 'x', {})]);
      const forgotten = await f.schedule({ channel: 'log', template: { body: 'Hi' } });
      expect(await waitFor(() => f.outcome(forgotten), 'an outcome')).toMatchObject({
        type: 'MessageSuppressed',
        data: { reason: 'customer-forgotten' },
      });
      await d.whenIdle();
      expect(lines).toHaveLength(1);
    } finally {
      await f.close();
    }
  });

  it('delivers to the inbox by recording the rendered content on MessageDelivered', async () => {
    const f = fixture();
    try {
      await f.identify({ name: 'Ann' });
      const messageId = await f.schedule({ channel: 'inbox', template: { subject: 'Tip', body: 'Hello {{ customer.traits.name }}' } });
      await f.start([new InboxChannel()]);
      await waitFor(() => f.outcome(messageId), 'an outcome');
      expect(inboxFromStream(await f.store.readStream(f.stream))).toEqual([
        { messageId, subject: 'Tip', body: 'Hello Ann', deliveredAt: expect.any(String), opened: false },
      ]);
    } finally {
      await f.close();
    }
  });
});

describe('Dispatcher with the email channel (SMTP)', () => {
  it('sends the rendered message to the customer email trait, with a Message-ID derived from the messageId', async () => {
    const mails: Array<{ rcpt: string[]; raw: string }> = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        let raw = '';
        stream.on('data', (c) => (raw += c));
        stream.on('end', () => {
          mails.push({ rcpt: session.envelope.rcptTo.map((r) => r.address), raw });
          callback();
        });
      },
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.server.address() as AddressInfo).port;
    const email = new EmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, from: 'Journey <journey@example.com>' });
    const f = fixture();
    try {
      await f.identify({ name: 'Ann', email: 'ann@example.com' });
      const messageId = await f.schedule({
        channel: 'email',
        template: { subject: 'Welcome {{ customer.traits.name }}', body: 'Hi {{ customer.traits.name }}, thanks for joining.' },
      });
      await f.start([email]);
      expect(await waitFor(() => f.outcome(messageId), 'an outcome')).toMatchObject({ type: 'MessageDelivered', data: { attempt: 1 } });
      expect(mails).toHaveLength(1);
      const [mail] = mails;
      expect(mail.raw).toContain('Subject: Welcome Ann');
      expect(mail.rcpt).toEqual(['ann@example.com']);
      expect(mail.raw).toContain('Hi Ann, thanks for joining.');
      expect(mail.raw).toContain(`Message-ID: <${messageId}@journey-engine>`);
      expect(mail.raw).toContain('From: Journey <journey@example.com>');
    } finally {
      email.close();
      await f.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('fails permanently when there is no recipient', async () => {
    const f = fixture();
    const email = new EmailChannel({ smtpUrl: 'smtp://127.0.0.1:9', from: 'journey@example.com' });
    try {
      const messageId = await f.schedule({ channel: 'email', template: { body: 'x' } });
      await f.start([email]);
      expect(await waitFor(() => f.outcome(messageId), 'an outcome')).toMatchObject({
        type: 'MessageFailed',
        data: { attempts: 1, error: expect.stringContaining('no recipient') },
      });
    } finally {
      email.close();
      await f.close();
    }
  });
});

describe('Dispatcher and unsafe templates', () => {
  it('records a template that reads a file or runs away as template-error once, never again after a restart, and delivers the next message', async () => {
    const f = fixture();
    const dataDir = mkdtempSync(join(tmpdir(), 'journey-keys-'));
    const cwd = process.cwd();
    try {
      mkdirSync(join(dataDir, 'data'));
      writeFileSync(join(dataDir, 'data', 'keys.json'), JSON.stringify({ admin: 'ak_secret_admin_key' }));
      process.chdir(dataDir);
      await f.identify({ name: 'Ann' });
      const leak = await f.schedule({ channel: 'inbox', template: { body: "{% include 'data/keys.json' %}" } });
      const spin = await f.schedule({
        channel: 'inbox',
        template: { body: '{% for a in (1..100000) %}{% for b in (1..100000) %}{{ a }}{% endfor %}{% endfor %}' },
      });
      const next = await f.schedule({ channel: 'inbox', template: { body: 'Hi {{ customer.traits.name }}' } });
      const first = await f.start([new InboxChannel()]);
      expect(await waitFor(() => f.outcome(leak), 'an outcome')).toMatchObject({
        type: 'MessageSuppressed',
        data: { reason: 'template-error', detail: expect.stringContaining('the "include" tag is not allowed') },
      });
      expect(await waitFor(() => f.outcome(spin), 'an outcome')).toMatchObject({
        type: 'MessageSuppressed',
        data: { reason: 'template-error', detail: expect.stringMatching(/limit exceeded/) },
      });
      expect(await waitFor(() => f.outcome(next), 'an outcome')).toMatchObject({ type: 'MessageDelivered' });
      await first.whenIdle();
      await first.stop();
      expect(inboxFromStream(await f.store.readStream(f.stream)).map((m) => m.body)).toEqual(['Hi Ann']);
      expect(JSON.stringify((await f.store.readStream(f.stream)).map((e) => e.data))).not.toContain('ak_secret_admin_key');

      // A restart that re-reads the whole log renders neither again: their outcome is terminal.
      await f.checkpoints.set('dispatcher', 0n);
      const second = await f.start([new InboxChannel()]);
      await second.whenIdle();
      for (const id of [leak, spin]) expect((await f.messageEvents(id)).map((e) => e.type)).toEqual(['MessageSuppressed']);
    } finally {
      process.chdir(cwd);
      rmSync(dataDir, { recursive: true, force: true });
      await f.close();
    }
  });
});

describe('Dispatcher retry budget and re-send', () => {
  it('retries past the attempt count until the retry budget is spent, then fails naming the budget', async () => {
    const f = fixture();
    const hook = await webhookReceiver(() => 503);
    try {
      const messageId = await f.schedule({ channel: 'webhook', template: { body: 'x' } });
      await f.start([new WebhookChannel({ url: hook.url })], {
        retry: { maxAttempts: Infinity, baseDelayMs: 20, maxDelayMs: 40, budgetMs: 2000 },
      });
      const outcome = await waitFor(() => f.outcome(messageId), 'an outcome');
      expect(outcome).toMatchObject({
        type: 'MessageFailed',
        data: { error: 'webhook answered HTTP 503: nope (gave up: the retry budget of 2 s is spent)' },
      });
      const sent = (await f.messageEvents(messageId)).filter((e) => e.type === 'MessageSent');
      expect(sent.length).toBeGreaterThan(3);
      expect(hook.received).toHaveLength(sent.length);
      // No retry was planned beyond the budget: the last attempt started within it.
      expect(Date.parse(sent.at(-1)!.metadata.occurredAt) - Date.parse(sent[0].metadata.occurredAt)).toBeLessThanOrEqual(2000);
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('keeps backing off across a restart: the next dispatcher waits for the rest of the backoff', async () => {
    const f = fixture();
    const hook = await webhookReceiver((n) => (n === 1 ? 503 : 200));
    const retry = { maxAttempts: 5, baseDelayMs: 1500, maxDelayMs: 1500 };
    try {
      const messageId = await f.schedule({ channel: 'webhook', template: { body: 'x' } });
      const first = await f.start([new WebhookChannel({ url: hook.url })], { retry });
      await until(() => f.outcomes.includes('webhook:retried'), 'the first attempt to fail');
      await first.stop();
      await f.start([new WebhookChannel({ url: hook.url })], { retry });
      expect(await waitFor(() => f.outcome(messageId), 'an outcome')).toMatchObject({ type: 'MessageDelivered', data: { attempt: 2 } });
      const [one, two] = (await f.messageEvents(messageId))
        .filter((e) => e.type === 'MessageSent')
        .map((e) => Date.parse(e.metadata.occurredAt));
      expect(two - one).toBeGreaterThanOrEqual(1500);
      expect(hook.received).toHaveLength(2);
    } finally {
      await hook.close();
      await f.close();
    }
  });

  it('sends a failed message again on MessageResendRequested, with the same Idempotency-Key, also across a restart', async () => {
    const f = fixture();
    let up = false;
    const hook = await webhookReceiver(() => (up ? 200 : 400));
    const resend = async (messageId: string) => {
      const state = (await f.store.readStream(f.stream))
        .filter((e) => (e.data as { messageId?: string }).messageId === messageId)
        .reduce(evolveDelivery, initialDeliveryState());
      await f.store.appendToStream(f.stream, [requestResend(state, new Date())!]);
    };
    try {
      const live = await f.schedule({ channel: 'webhook', template: { body: 'x' } });
      const later = await f.schedule({ channel: 'webhook', template: { body: 'y' } });
      const first = await f.start([new WebhookChannel({ url: hook.url })]);
      for (const id of [live, later])
        expect(await waitFor(() => f.outcome(id), 'an outcome')).toMatchObject({ type: 'MessageFailed', data: { attempts: 1 } });
      await first.whenIdle();

      up = true;
      await resend(live);
      await waitFor(async () => (await f.messageEvents(live)).find((e) => e.type === 'MessageDelivered'), 'the re-sent message delivered');
      expect((await f.messageEvents(live)).map((e) => e.type)).toEqual([
        'MessageSent',
        'MessageFailed',
        'MessageResendRequested',
        'MessageSent',
        'MessageDelivered',
      ]);
      await first.stop();

      // Requested while no dispatcher runs: the next one picks it up.
      await resend(later);
      await f.start([new WebhookChannel({ url: hook.url })]);
      await waitFor(async () => (await f.messageEvents(later)).find((e) => e.type === 'MessageDelivered'), 'the re-sent message delivered');
      const requests = (id: string) =>
        hook.received.filter((r) => r.body.messageId === id).map((r) => [r.headers['idempotency-key'], r.body.attempt]);
      expect(requests(live)).toEqual([
        [live, 1],
        [live, 2],
      ]);
      expect(requests(later)).toEqual([
        [later, 1],
        [later, 2],
      ]);
    } finally {
      await hook.close();
      await f.close();
    }
  });
});
