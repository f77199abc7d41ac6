import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import nodemailer from 'nodemailer';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { customerStreamId, deterministicId, envelope, type RecordedEvent } from '@journey/domain';
import { EVENT_STORE, type EventStore } from '@journey/event-store';
import { encodeReplyToken, tokenOfAddress } from '@journey/messaging';
import { eventually } from '../../../../libs/reactors/src/testing/eventually';
import { startEngine, type TestEngine } from '../../../../test/e2e/support';
import { ConversationsService } from '../conversations/conversations.service';
import { SettingsService } from '../conversations/organisation.service';
import { SmtpInboundListener } from './smtp-inbound';

const WS = 'default';
const REPLY_DOMAIN = 'reply.acme.test';
const INBOUND_SECRET = 'postmark-password-of-default';
const REPLY_KEY = 'reply-key-of-default';

/** A reply as mail clients write it: the answer, a signature, the quoted history. */
const replyText = (words: string) =>
  [
    words,
    '',
    'Best regards,',
    'Ann',
    '--',
    'Ann Smith | Head of Ops | Example Corp',
    '',
    'On Tue, Dec 1, 2026 at 10:02 AM Acme Support <support@acme.test> wrote:',
    '> Hi Ann, does the import work now?',
    '> Sam',
  ].join('\n');

describe('Two-way email (in-process engine: SMTP listener, Postmark webhook, outbound threading)', () => {
  let engine: TestEngine;
  let store: EventStore;
  let sink: SMTPServer;
  let listenerPort: number;
  const outbox: ParsedMail[] = [];

  beforeAll(async () => {
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, _session, callback) {
        simpleParser(stream).then(
          (mail) => {
            outbox.push(mail);
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    engine = await startEngine({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${(sink.server.address() as AddressInfo).port}`,
        JOURNEY_EMAIL_FROM: 'Acme Support <support@acme.test>',
        JOURNEY_SMTP_INBOUND_PORT: '0',
        JOURNEY_SMTP_INBOUND_MAX_BYTES: '100000',
        JOURNEY_DELIVERY_BACKOFF_MS: '50',
      },
    });
    store = engine.app.get(EVENT_STORE);
    listenerPort = engine.app.get(SmtpInboundListener).port!;
    expect(listenerPort).toBeGreaterThan(0);
    const admin = { authorization: engine.auth.admin, 'content-type': 'application/json' };
    for (const [name, value] of [
      ['inbound_mail', INBOUND_SECRET],
      ['reply_key', REPLY_KEY],
    ])
      expect(
        (
          await fetch(`${engine.url}/v1/admin/workspace/secrets/${name}`, {
            method: 'PUT',
            headers: admin,
            body: JSON.stringify({ value }),
          })
        ).status,
      ).toBe(204);
    const settings = await fetch(`${engine.url}/v1/admin/workspace/settings`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ email: { replyDomain: REPLY_DOMAIN, inboundSecret: 'inbound_mail', replySecret: 'reply_key' } }),
    });
    expect(settings.status).toBe(200);
  });

  afterAll(async () => {
    await engine?.close();
    await new Promise<void>((r) => sink.close(() => r()));
  });

  const identify = async (userId: string, traits: Record<string, unknown>) => {
    const res = await fetch(`${engine.url}/v1/identify`, {
      method: 'POST',
      headers: { authorization: engine.auth.write, 'content-type': 'application/json' },
      body: JSON.stringify({ userId, traits }),
    });
    expect(res.status).toBe(200);
  };
  const events = (customer: string): Promise<RecordedEvent[]> => store.readStream(customerStreamId(WS, customer));
  const ofType = async (customer: string, type: string) => (await events(customer)).filter((e) => e.type === type);
  const sentTo = (address: string) => outbox.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((t) => t?.text.includes(address)));

  /** Sends a mail to the engine's SMTP listener, as a customer's mail server would. */
  const mailEngine = async (mail: nodemailer.SendMailOptions) => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: listenerPort, secure: false, ignoreTLS: true });
    try {
      return await transport.sendMail(mail);
    } finally {
      transport.close();
    }
  };

  it('threads a sent email, records the SMTP reply in its conversation (stripped), once, and mails the agent answer back threaded', async () => {
    const customer = `ann-${randomUUID()}`;
    const email = `${customer}@example.com`;
    await identify(customer, { email, name: 'Ann' });
    // a trigger's email (outside any conversation): it carries the reply address of the message
    const messageId = randomUUID();
    const at = new Date().toISOString();
    await store.appendToStream(customerStreamId(WS, customer), [
      envelope({
        id: randomUUID(),
        type: 'MessageScheduled',
        data: { messageId, channel: 'email', template: { subject: 'Your import', body: 'Hi {{ customer.traits.name }}, does it work?' } },
        workspaceId: WS,
        customerId: customer,
        occurredAt: at,
        recordedAt: at,
        source: 'test',
      }),
    ]);
    const first = await eventually(() => {
      const [m] = sentTo(email);
      expect(m).toBeDefined();
      return m;
    });
    expect(first.messageId).toBe(`<${messageId}@${REPLY_DOMAIN}>`);
    const replyTo = first.replyTo!.value[0].address!;
    expect(replyTo).toMatch(new RegExp(`^reply\\+[a-z2-7]+@${REPLY_DOMAIN.replace(/\./g, '\\.')}$`));

    // the customer answers it through the SMTP listener
    const customerMessageId = `<${randomUUID()}@mail.example.com>`;
    await mailEngine({
      from: email,
      to: replyTo,
      subject: 'Re: Your import',
      messageId: customerMessageId,
      inReplyTo: first.messageId,
      references: [first.messageId!],
      text: replyText('It works, thanks! {{ not a template }} Can we switch to the annual plan?'),
    });
    // 250 comes once it is in the log
    const [started] = await ofType(customer, 'ConversationStarted');
    expect(started.data).toMatchObject({ channel: 'email', subject: 'Re: Your import', inReplyTo: messageId });
    const conversationId = (started.data as { conversationId: string }).conversationId;
    const [replied] = await ofType(customer, 'CustomerReplied');
    expect(replied.data).toMatchObject({
      conversationId,
      channel: 'email',
      providerId: customerMessageId,
      body: 'It works, thanks! {{ not a template }} Can we switch to the annual plan?',
    });
    expect(replied.metadata.source).toBe('email');

    // the same mail again (a retry of the customer's server): recorded once
    await mailEngine({
      from: email,
      to: replyTo,
      subject: 'Re: Your import',
      messageId: customerMessageId,
      text: replyText('It works, thanks! {{ not a template }} Can we switch to the annual plan?'),
    });
    expect(await ofType(customer, 'CustomerReplied')).toHaveLength(1);

    // an agent answers: it goes out by email, literal, threaded on the customer's mail, with the conversation's address
    await engine.app
      .get(ConversationsService)
      .act(
        WS,
        customer,
        conversationId,
        { type: 'Reply', body: 'Done, {{ customer.traits.name }} stays as typed.', by: 'sam' },
        { source: 'http' },
      );
    const answer = await eventually(() => {
      const mails = sentTo(email);
      expect(mails).toHaveLength(2);
      return mails[1];
    });
    expect(answer.subject).toBe('Re: Your import');
    expect(answer.text?.trim()).toBe('Done, {{ customer.traits.name }} stays as typed.');
    expect(answer.inReplyTo).toBe(customerMessageId);
    expect([answer.references].flat()).toContain(customerMessageId);
    const conversationAddress = answer.replyTo!.value[0].address!;
    expect(conversationAddress).not.toBe(replyTo);
    expect(tokenOfAddress(conversationAddress)).toBeDefined();
    const [scheduled] = (await ofType(customer, 'MessageScheduled')).filter((e) => (e.data as { literal?: boolean }).literal);
    expect(scheduled.data).toMatchObject({ channel: 'email', conversationId, to: email, literal: true });

    // the customer answers the answer: same conversation
    await mailEngine({
      from: email,
      to: conversationAddress,
      subject: 'Re: Your import',
      messageId: `<${randomUUID()}@mail.example.com>`,
      inReplyTo: answer.messageId,
      text: replyText('Great, thank you.'),
    });
    const replies = await ofType(customer, 'CustomerReplied');
    expect(replies.map((e) => e.data)).toMatchObject([{ conversationId }, { conversationId, body: 'Great, thank you.' }]);
    expect(await ofType(customer, 'ConversationStarted')).toHaveLength(1);
  });

  it('refuses at RCPT (550) a recipient that is not a valid reply address, and records nothing', async () => {
    const customer = `eve-${randomUUID()}`;
    const forged = encodeReplyToken({ workspaceId: WS, customerId: customer, conversationId: randomUUID() }, 'a guessed key');
    for (const to of [`reply+${forged}@${REPLY_DOMAIN}`, `support@${REPLY_DOMAIN}`]) {
      await expect(mailEngine({ from: 'eve@example.com', to, subject: 'hi', text: 'let me in' })).rejects.toMatchObject({
        responseCode: 550,
      });
    }
    expect(await events(customer)).toEqual([]);
  });

  it('refuses a mail over JOURNEY_SMTP_INBOUND_MAX_BYTES (552), and records nothing', async () => {
    const customer = `big-${randomUUID()}`;
    const token = encodeReplyToken({ workspaceId: WS, customerId: customer, conversationId: randomUUID() }, REPLY_KEY);
    await expect(
      mailEngine({ from: 'big@example.com', to: `reply+${token}@${REPLY_DOMAIN}`, subject: 'big', text: 'x'.repeat(150_000) }),
    ).rejects.toMatchObject({ responseCode: 552 });
    expect(await events(customer)).toEqual([]);
  });

  describe('Postmark inbound webhook', () => {
    const postmark = (workspace: string, password: string | undefined, body: unknown) =>
      fetch(`${engine.url}/v1/inbound/email/postmark/${workspace}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(password !== undefined && { authorization: `Basic ${Buffer.from(`postmark:${password}`).toString('base64')}` }),
        },
        body: JSON.stringify(body),
      });
    const inbound = (to: string, messageId: string, text: string) => ({
      From: 'bob@example.com',
      FromFull: { Email: 'bob@example.com', Name: 'Bob', MailboxHash: '' },
      To: to,
      ToFull: [{ Email: to, Name: '', MailboxHash: to.split('+')[1]?.split('@')[0] ?? '' }],
      OriginalRecipient: to,
      Subject: 'Question about invoices',
      MessageID: randomUUID(),
      TextBody: text,
      HtmlBody: `<p>${text}</p>`,
      StrippedTextReply: text.split('\n')[0],
      Headers: [
        { Name: 'Message-ID', Value: messageId },
        { Name: 'X-Spam-Status', Value: 'No' },
      ],
    });

    it('records a reply with the right password, once, and refuses a wrong password (401) and unknown tokens (422)', async () => {
      const customer = `bob-${randomUUID()}`;
      await identify(customer, { email: 'bob@example.com' });
      const conversationId = deterministicId('test-conversation', customer);
      const token = encodeReplyToken({ workspaceId: WS, customerId: customer, conversationId }, REPLY_KEY);
      const to = `reply+${token}@${REPLY_DOMAIN}`;
      const body = inbound(to, `<${randomUUID()}@mail.example.com>`, replyText('Where do I find my invoices?'));

      for (const password of [undefined, 'wrong', `${INBOUND_SECRET}x`]) {
        const res = await postmark(WS, password, body);
        expect(res.status).toBe(401);
      }
      expect(await ofType(customer, 'CustomerReplied')).toEqual([]);

      const ok = await postmark(WS, INBOUND_SECRET, body);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ recorded: [{ customerId: customer, conversationId, duplicate: false }] });
      const [replied] = await ofType(customer, 'CustomerReplied');
      expect(replied.data).toMatchObject({ conversationId, channel: 'email', body: 'Where do I find my invoices?' });

      // Postmark retries a delivery it is not sure of: the same Message-ID is recorded once
      const again = await postmark(WS, INBOUND_SECRET, { ...body, MessageID: randomUUID() });
      expect(await again.json()).toEqual({ recorded: [{ customerId: customer, conversationId, duplicate: true }] });
      expect(await ofType(customer, 'CustomerReplied')).toHaveLength(1);

      // a forged token, an address without one, and a token of another workspace: 422, nothing recorded
      const forged = encodeReplyToken({ workspaceId: WS, customerId: customer, conversationId }, 'guessed');
      const otherWorkspace = encodeReplyToken({ workspaceId: 'other', customerId: customer, conversationId }, REPLY_KEY);
      for (const address of [`reply+${forged}@${REPLY_DOMAIN}`, `support@${REPLY_DOMAIN}`, `reply+${otherWorkspace}@${REPLY_DOMAIN}`]) {
        const res = await postmark(WS, INBOUND_SECRET, inbound(address, `<${randomUUID()}@mail.example.com>`, 'sneaky'));
        expect(res.status).toBe(422);
        expect(((await res.json()) as { message: string }).message).toMatch(/reply address/);
      }
      expect(await ofType(customer, 'CustomerReplied')).toHaveLength(1);

      // a valid reply address of another workspace (acme) posted to this workspace's webhook: 422, nothing in either
      const settings = engine.app.get(SettingsService);
      await settings.decide('acme', { type: 'SetSecret', name: 'reply_key', value: 'reply-key-of-acme' });
      await settings.decide('acme', {
        type: 'SetSettings',
        settings: { email: { replyDomain: 'reply.acme.test', replySecret: 'reply_key' } },
      });
      const acmeToken = encodeReplyToken({ workspaceId: 'acme', customerId: customer, conversationId }, 'reply-key-of-acme');
      const res = await postmark(WS, INBOUND_SECRET, inbound(`reply+${acmeToken}@${REPLY_DOMAIN}`, `<${randomUUID()}@x.test>`, 'cross'));
      expect(res.status).toBe(422);
      expect(await store.readStream(customerStreamId('acme', customer))).toEqual([]);
      // and to acme's webhook, which has no inbound secret: 401; a workspace without settings: 401
      expect((await postmark('acme', INBOUND_SECRET, body)).status).toBe(401);
      expect((await postmark('nobody', INBOUND_SECRET, body)).status).toBe(401);
    });
  });
});
