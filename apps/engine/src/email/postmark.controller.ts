import { timingSafeEqual } from 'node:crypto';
import { Body, Controller, Headers, HttpCode, Param, Post, UnauthorizedException, UnprocessableEntityException } from '@nestjs/common';
import {
  ApiBasicAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { secretNamed } from '@journey/domain';
import { messageIdsOf, normaliseMessageId } from '@journey/messaging';
import { Allow } from '../auth/auth.guard';
import { EmailInboundService, EmptyMailError, NoReplyAddressError } from './email-inbound';
import { EmailThreadingService } from './email-threading';

/** The fields of Postmark's inbound webhook JSON the engine reads (https://postmarkapp.com/developer/webhooks/inbound-webhook). */
interface PostmarkAddress {
  Email?: string;
  Name?: string;
  MailboxHash?: string;
}
interface PostmarkInbound {
  From?: string;
  FromFull?: PostmarkAddress;
  To?: string;
  ToFull?: PostmarkAddress[];
  CcFull?: PostmarkAddress[];
  BccFull?: PostmarkAddress[];
  OriginalRecipient?: string;
  MailboxHash?: string;
  Subject?: string;
  MessageID?: string;
  TextBody?: string;
  HtmlBody?: string;
  StrippedTextReply?: string;
  Headers?: Array<{ Name?: string; Value?: string }>;
}

const EXAMPLE: PostmarkInbound = {
  From: 'ann@example.com',
  FromFull: { Email: 'ann@example.com', Name: 'Ann', MailboxHash: '' },
  To: 'reply+aebqcz…@reply.example.com',
  ToFull: [{ Email: 'reply+aebqcz…@reply.example.com', Name: '', MailboxHash: 'aebqcz…' }],
  OriginalRecipient: 'reply+aebqcz…@reply.example.com',
  Subject: 'Re: Your import',
  MessageID: '22c74902-a0c1-4511-804f-341342852c90',
  TextBody: 'Works now, thanks!\n\nOn Tue, Dec 1, 2026 at 10:02 AM Acme <reply+aebqcz…@reply.example.com> wrote:\n> Does it work?',
  HtmlBody: '<p>Works now, thanks!</p>',
  StrippedTextReply: 'Works now, thanks!',
  Headers: [
    { Name: 'Message-ID', Value: '<CAF=abc@mail.example.com>' },
    { Name: 'In-Reply-To', Value: '<3f1c…@reply.example.com>' },
  ],
};

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** The password of an HTTP basic `Authorization` header (undefined: none, or not basic). */
function basicPassword(authorization: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * Postmark's inbound-parse webhook: a reply mail as Postmark's documented JSON. Public for keys (`@Allow()`): it
 * authenticates itself with HTTP basic auth, whose password is the workspace's `email.inboundSecret` secret (the
 * webhook URL in Postmark: `https://any-user:<secret>@engine.example.com/v1/inbound/email/postmark/<workspace>`).
 */
@ApiTags('inbound')
@Controller('v1/inbound/email')
export class PostmarkInboundController {
  constructor(
    private readonly threading: EmailThreadingService,
    private readonly inbound: EmailInboundService,
  ) {}

  @Post('postmark/:workspaceId')
  @Allow()
  @HttpCode(200)
  @ApiBasicAuth('inboundSecret')
  @ApiOperation({
    summary: 'Postmark inbound webhook: a reply to a reply+<token>@<replyDomain> address, recorded in its conversation',
  })
  @ApiParam({ name: 'workspaceId', description: 'The workspace whose reply addresses the mail went to' })
  @ApiBody({ schema: { type: 'object', example: EXAMPLE } })
  @ApiOkResponse({
    schema: { example: { recorded: [{ customerId: 'ann', conversationId: '4f6c…', duplicate: false }] } },
    description: 'Recorded (duplicate: this Message-ID was recorded before, nothing new was written)',
  })
  @ApiUnauthorizedResponse({ description: "No basic auth, or its password is not the workspace's inbound secret" })
  @ApiUnprocessableEntityResponse({ description: 'No recipient is a valid reply address of the workspace, or the mail has no text' })
  async postmark(
    @Param('workspaceId') workspaceId: string,
    @Headers('authorization') authorization: string | undefined,
    @Body() body: unknown,
  ): Promise<{ recorded: Array<{ customerId: string; conversationId: string; duplicate: boolean }> }> {
    const state = await this.threading.settingsIfAny(workspaceId);
    const secret = state && secretNamed(state, state.settings.email?.inboundSecret);
    const password = basicPassword(authorization);
    if (secret === undefined || password === undefined || !sameSecret(password, secret))
      throw new UnauthorizedException(
        "basic auth with the workspace's inbound secret (the secret email.inboundSecret names) as the password is required",
      );
    const mail = (typeof body === 'object' && body !== null ? body : {}) as PostmarkInbound;
    const header = (name: string) =>
      list<{ Name?: string; Value?: string }>(mail.Headers).find((h) => text(h.Name)?.toLowerCase() === name)?.Value;
    const addresses = [
      ...list<PostmarkAddress>(mail.ToFull),
      ...list<PostmarkAddress>(mail.CcFull),
      ...list<PostmarkAddress>(mail.BccFull),
    ];
    const recipients = [
      ...addresses.flatMap((a) => [text(a.Email) ?? [], text(a.MailboxHash) ? `x+${a.MailboxHash}@mailbox-hash` : []].flat()),
      ...[text(mail.OriginalRecipient) ?? []].flat(),
      ...(text(mail.MailboxHash) ? [`x+${mail.MailboxHash}@mailbox-hash`] : []),
    ];
    const providerId = normaliseMessageId(text(header('message-id'))) ?? text(mail.MessageID);
    try {
      const targets = await this.inbound.targets(recipients, workspaceId);
      const recorded = await this.inbound.receive(
        {
          ...(providerId !== undefined && { providerId }),
          inReplyTo: [...messageIdsOf(text(header('in-reply-to'))), ...messageIdsOf(text(header('references')))],
          ...(text(mail.Subject) !== undefined && { subject: text(mail.Subject) }),
          ...(text(mail.TextBody) && { text: text(mail.TextBody) }),
          ...(text(mail.HtmlBody) && { html: text(mail.HtmlBody) }),
          ...(text(mail.StrippedTextReply) && { strippedText: text(mail.StrippedTextReply) }),
          recipients,
        },
        targets,
      );
      return {
        recorded: recorded.map(({ target, change }) => ({
          customerId: target.customerId,
          conversationId: change.conversation.conversationId,
          duplicate: change.written === 0,
        })),
      };
    } catch (error) {
      if (error instanceof NoReplyAddressError || error instanceof EmptyMailError) throw new UnprocessableEntityException(error.message);
      throw error;
    }
  }
}
