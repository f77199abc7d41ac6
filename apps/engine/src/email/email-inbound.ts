import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ReplyTokenError, htmlToText, stripReply, tokenOfAddress, type ReplyTarget } from '@journey/messaging';
import { ConversationsService, type ConversationChange } from '../conversations/conversations.service';
import { EmailThreadingService } from './email-threading';

/** An inbound mail, from the SMTP listener or an inbound-parse webhook. */
export interface InboundMail {
  /** The Message-ID header (`<id@host>`), else the provider's id of the mail: it is recorded once. */
  providerId?: string;
  /** The mail's bytes (SMTP), to name a mail that has no Message-ID by its hash. */
  raw?: Buffer;
  /** In-Reply-To, then References: the Message-IDs it answers. */
  inReplyTo: string[];
  subject?: string;
  text?: string;
  html?: string;
  /** The provider's own stripped reply (Postmark's StrippedTextReply), used when the text gives nothing. */
  strippedText?: string;
  /** The addresses it was sent to (To, Cc, the envelope's recipients): reply addresses among them name the conversation. */
  recipients: string[];
}

/** No recipient of the mail is a valid reply address (of this workspace). */
export class NoReplyAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoReplyAddressError';
  }
}

/** A mail with no text, no HTML and no subject. */
export class EmptyMailError extends Error {
  constructor() {
    super('the mail has no text');
    this.name = 'EmptyMailError';
  }
}

/** The customer's words in a mail: the text without quotes and signature, else the HTML's, the provider's, the subject. */
export function bodyOf(mail: InboundMail): string {
  const candidates = [mail.text, mail.html === undefined ? undefined : htmlToText(mail.html), mail.strippedText, mail.subject];
  for (const c of candidates) {
    const body = c === undefined ? '' : stripReply(c);
    if (body !== '') return body;
  }
  throw new EmptyMailError();
}

/**
 * Inbound email into conversations: the reply address's token names the workspace, the customer and the conversation
 * (or the message the mail answers); the stripped body goes to ConversationsService.receive with the Message-ID as the
 * provider id, so a mail delivered twice (or a webhook retried) is recorded once.
 */
@Injectable()
export class EmailInboundService {
  constructor(
    private readonly threading: EmailThreadingService,
    private readonly conversations: ConversationsService,
  ) {}

  /**
   * The checked targets of the mail's reply addresses, one per conversation or message (only `workspaceId`'s when
   * given). Throws NoReplyAddressError when there is none.
   */
  async targets(recipients: string[], workspaceId?: string): Promise<ReplyTarget[]> {
    const targets = new Map<string, ReplyTarget>();
    let refused = 0;
    for (const token of new Set(recipients.map(tokenOfAddress).filter((t): t is string => t !== undefined))) {
      try {
        const target = await this.threading.open(token);
        if (workspaceId !== undefined && target.workspaceId !== workspaceId) throw new ReplyTokenError('another workspace');
        targets.set(JSON.stringify(target), target);
      } catch (error) {
        if (!(error instanceof ReplyTokenError)) throw error;
        refused += 1;
      }
    }
    if (targets.size === 0)
      throw new NoReplyAddressError(
        refused > 0
          ? `no recipient is a valid reply address${workspaceId === undefined ? '' : ` of workspace "${workspaceId}"`} (${refused} reply token(s) refused: forged, altered, or signed with another key)`
          : 'no recipient is a reply address (reply+<token>@<replyDomain>)',
      );
    return [...targets.values()];
  }

  /** Records the mail in the conversation of each of its reply addresses. */
  async receive(mail: InboundMail, targets: ReplyTarget[]): Promise<Array<{ target: ReplyTarget; change: ConversationChange }>> {
    const body = bodyOf(mail);
    const providerId = mail.providerId ?? (mail.raw ? `sha256:${createHash('sha256').update(mail.raw).digest('hex')}` : undefined);
    const out: Array<{ target: ReplyTarget; change: ConversationChange }> = [];
    for (const target of targets) {
      const inReplyTo = [...(target.messageId !== undefined ? [target.messageId] : []), ...mail.inReplyTo];
      const change = await this.conversations.receive(
        target.workspaceId,
        target.customerId,
        {
          channel: 'email',
          body,
          ...(providerId !== undefined && { providerId }),
          ...(target.conversationId !== undefined && { conversationId: target.conversationId }),
          ...(inReplyTo.length > 0 && { inReplyTo }),
          ...(mail.subject !== undefined && mail.subject.trim() !== '' && { subject: mail.subject.trim() }),
        },
        'email',
      );
      out.push({ target, change });
    }
    return out;
  }
}
