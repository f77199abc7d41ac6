import { HttpException, Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { simpleParser, type AddressObject } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { messageIdsOf, normaliseMessageId, type ReplyTarget } from '@journey/messaging';
import { ENGINE_CONFIG, type EngineConfig } from '../config';
import { EmailInboundService, EmptyMailError, NoReplyAddressError } from './email-inbound';

/** An SMTP reply: `responseCode` is what smtp-server answers with. */
const smtpError = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });

const addresses = (a: AddressObject | AddressObject[] | undefined): string[] =>
  [a ?? []].flat().flatMap((o) => o.value.flatMap((v) => (v.address ? [v.address] : [])));

/**
 * The SMTP listener of reply mail (JOURNEY_SMTP_INBOUND_PORT; off when unset), with the `api` role. It takes mail only
 * for reply addresses whose token is valid (any other recipient: 550 at RCPT), up to JOURNEY_SMTP_INBOUND_MAX_BYTES
 * (552 over it), parses it (mailparser) and records it (EmailInboundService). It answers 250 once the reply is durable
 * in the log; a failure of the store is a 451, so the sending server tries again. No AUTH, no STARTTLS: run it behind
 * your MX (or on a private network), see deploy/email.md.
 */
@Injectable()
export class SmtpInboundListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('smtp-inbound');
  private server?: SMTPServer;
  private listeningPort?: number;

  constructor(
    @Inject(ENGINE_CONFIG) private readonly config: EngineConfig,
    private readonly inbound: EmailInboundService,
  ) {}

  /** The port it listens on (undefined: not running). */
  get port(): number | undefined {
    return this.listeningPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    const settings = this.config.smtpInbound;
    if (!settings || !this.config.roles.has('api')) return;
    const server = new SMTPServer({
      name: 'journey-engine',
      banner: 'Journey Engine reply mail',
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: settings.maxBytes,
      maxClients: 100,
      logger: false,
      onRcptTo: (address, _session, callback) => {
        this.rcpt(address).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
      onData: (stream, session, callback) => {
        this.data(stream, session).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
    });
    server.on('error', (error) => this.logger.error(`smtp listener: ${error.message}`));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(settings.port, settings.host, () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.listeningPort = (server.server.address() as { port: number }).port;
    this.logger.log(`listening for reply mail on ${settings.host}:${this.listeningPort}`);
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** RCPT TO: only reply addresses with a valid token (550 otherwise; 451 when they cannot be checked now). */
  private async rcpt(address: SMTPServerAddress): Promise<void> {
    await this.targetsOf([address.address]);
  }

  private async targetsOf(recipients: string[]): Promise<ReplyTarget[]> {
    try {
      return await this.inbound.targets(recipients);
    } catch (error) {
      if (error instanceof NoReplyAddressError) throw smtpError(550, `5.1.1 ${recipients.join(', ')}: ${error.message}`);
      this.logger.error(`checking a reply address failed: ${(error as Error).message}`);
      throw smtpError(451, '4.3.0 temporary failure, try again later');
    }
  }

  private async data(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<void> {
    const chunks: Buffer[] = [];
    let size = 0;
    const max = this.config.smtpInbound!.maxBytes;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    }
    if (stream.sizeExceeded || size > max) throw smtpError(552, `5.3.4 message over the size limit of ${max} bytes`);
    // this transaction's recipients, each accepted at RCPT
    const targets = await this.targetsOf(session.envelope.rcptTo.map((r) => r.address));
    const raw = Buffer.concat(chunks);
    let parsed;
    try {
      parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true });
    } catch (error) {
      throw smtpError(554, `5.6.0 the message could not be parsed: ${(error as Error).message}`);
    }
    try {
      await this.inbound.receive(
        {
          ...(normaliseMessageId(parsed.messageId) !== undefined && { providerId: normaliseMessageId(parsed.messageId) }),
          raw,
          inReplyTo: [...messageIdsOf(parsed.inReplyTo), ...messageIdsOf(parsed.references)],
          ...(parsed.subject !== undefined && { subject: parsed.subject }),
          ...(parsed.text !== undefined && { text: parsed.text }),
          ...(typeof parsed.html === 'string' && { html: parsed.html }),
          recipients: [...addresses(parsed.to), ...addresses(parsed.cc)],
        },
        targets,
      );
    } catch (error) {
      if (error instanceof EmptyMailError) throw smtpError(554, `5.6.0 ${error.message}`);
      const status = error instanceof HttpException ? error.getStatus() : undefined;
      if (status !== undefined && status >= 400 && status < 500) throw smtpError(554, `5.6.0 ${(error as Error).message}`);
      this.logger.error(`recording reply mail failed: ${(error as Error).message}`);
      throw smtpError(451, '4.3.0 temporary failure, try again later');
    }
  }
}
